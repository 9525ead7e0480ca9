-- Cluster membership and deployment leases (DESIGN.md, "Cluster"; docs/architecture.md).
--
-- Each node upserts its row every CLUSTER_HEARTBEAT; a node whose heartbeat_at is older than a
-- lease period is dead to the others. left_at is set by a node that left on SIGTERM.
CREATE TABLE cluster_nodes (
  node_id       text        PRIMARY KEY,
  api_address   text        NOT NULL DEFAULT '',
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  -- Deployment actors the node ran (or queued) at its last heartbeat.
  active_deployments integer NOT NULL DEFAULT 0,
  left_at       timestamptz
);

-- The lease of a deployment: the node whose actor works on it, until lease_expires_at unless
-- renewed. A claim takes it only if it is free, the claimer's own, or expired, and bumps epoch
-- (the fencing token every write checks). Both NULL: free.
ALTER TABLE deployments
  ADD COLUMN lease_owner      text,
  ADD COLUMN lease_expires_at timestamptz;

-- Renewals and releases find a node's leases without a scan.
CREATE INDEX deployments_lease_owner ON deployments (lease_owner) WHERE lease_owner IS NOT NULL;
