-- Ansible configuration runs of a deployment (POST /deployments/{id}/configure): what was run,
-- how each host fared and the run's output, bounded by the orchestrator (64 KiB head and tail).
CREATE TABLE configuration_runs (
  id            uuid        PRIMARY KEY,
  deployment_id uuid        NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  playbook      text        NOT NULL CHECK (length(playbook) BETWEEN 1 AND 255),
  -- {"group": ["address", ...]}
  inventory     jsonb       NOT NULL,
  extra_vars    jsonb       NOT NULL DEFAULT '{}',
  status        text        NOT NULL DEFAULT 'running'
                            CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  -- [{"host", "ok", "changed", "failed", "unreachable", "skipped"}]
  hosts         jsonb       NOT NULL DEFAULT '[]',
  -- Failing hosts and tasks in one line; '' when none.
  failed_task   text        NOT NULL DEFAULT '',
  output        text        NOT NULL DEFAULT '' CHECK (length(output) <= 131072),
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  CHECK ((status = 'running') = (finished_at IS NULL))
);

-- A deployment runs one configuration at a time.
CREATE UNIQUE INDEX configuration_runs_one_running ON configuration_runs (deployment_id)
  WHERE status = 'running';

-- GET /deployments/{id}/configurations: newest first.
CREATE INDEX configuration_runs_newest ON configuration_runs (deployment_id, started_at DESC, id DESC);
