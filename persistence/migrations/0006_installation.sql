-- One row naming this installation of the orchestrator: every cloud resource it creates carries
-- `orch-installation=<id>`, so two installations sharing a cloud project never take each
-- other's resources for orphans. Drawn once, here, unless ORCH_INSTALLATION_ID overrides it.
CREATE TABLE installation (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO installation (id) VALUES (gen_random_uuid()::text);
