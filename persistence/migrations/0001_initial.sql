-- Deployment templates, deployments and their event log, snapshots, idempotency keys and API
-- keys (API.md, DESIGN.md "Durable execution").
--
-- Template documents (vm_config, network_config, a deployment's resolved template) are `json`,
-- not `jsonb`: jsonb re-sorts object keys, but VM groups and subnets are ordered maps (a group
-- without a subnet of its own name goes on the FIRST subnet), so the text must come back as
-- written. Everything else is jsonb.

CREATE TABLE deployment_templates (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name           text        NOT NULL CHECK (name <> ''),
  description    text        NOT NULL DEFAULT '',
  vm_config      json        NOT NULL,
  network_config json        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  deleted_at     timestamptz NULL
);

-- A deleted template keeps its row for deployments that still refer to it; its name is free.
CREATE UNIQUE INDEX deployment_templates_live_name
  ON deployment_templates (name) WHERE deleted_at IS NULL;

CREATE TABLE deployments (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text        NOT NULL CHECK (name <> ''),
  status       text        NOT NULL DEFAULT 'PENDING'
                           CHECK (status IN ('PENDING', 'IN_PROGRESS', 'COMPLETED', 'FAILED',
                                             'UPDATING', 'CONFIGURING', 'SCALING', 'DELETING',
                                             'DELETED')),
  -- The resolved copy: later changes to the stored template do not alter the deployment.
  template     json        NOT NULL,
  template_id  uuid        NULL REFERENCES deployment_templates (id),
  parameters   jsonb       NOT NULL DEFAULT '{}'::jsonb,
  cloud_region text        NOT NULL,
  resources    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  operation    jsonb       NULL,
  -- Fencing: every write by the owner carries the epoch of its lease.
  epoch        bigint      NOT NULL DEFAULT 0,
  owner_node   text        NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz NULL
);

CREATE UNIQUE INDEX deployments_live_name ON deployments (name) WHERE status <> 'DELETED';
CREATE INDEX deployments_status_created ON deployments (status, created_at DESC);
CREATE INDEX deployments_name_prefix ON deployments (name text_pattern_ops);
-- Newest first listings and keyset pagination (`?after=<id>`).
CREATE INDEX deployments_created_id ON deployments (created_at DESC, id DESC);
-- Template removal asks whether a live deployment still uses the template.
CREATE INDEX deployments_template ON deployments (template_id) WHERE template_id IS NOT NULL;

CREATE TABLE deployment_events (
  deployment_id uuid        NOT NULL REFERENCES deployments (id),
  seq           bigint      NOT NULL CHECK (seq > 0),
  at            timestamptz NOT NULL DEFAULT now(),
  type          text        NOT NULL,
  data          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (deployment_id, seq)
);

CREATE TABLE deployment_snapshots (
  deployment_id uuid        PRIMARY KEY REFERENCES deployments (id),
  seq           bigint      NOT NULL,
  state         jsonb       NOT NULL,
  epoch         bigint      NOT NULL,
  taken_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
  key             text        NOT NULL,
  -- Hash of the API key that sent the request, so two callers' keys never collide.
  key_owner       text        NOT NULL,
  request_hash    text        NOT NULL,
  deployment_id   uuid        NULL REFERENCES deployments (id),
  response_status integer     NOT NULL,
  response_body   jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (key_owner, key)
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

CREATE TABLE api_keys (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text        NOT NULL,
  key_hash   text        NOT NULL UNIQUE,
  scope      text        NOT NULL CHECK (scope IN ('read', 'write')),
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz NULL
);
