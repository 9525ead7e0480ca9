-- The sequence number of a deployment's newest event, kept in its row: an append then bumps it
-- in the same UPDATE that checks the fencing epoch and takes the row lock, and inserts its
-- events and snapshot in that one statement (one round trip, no separate BEGIN and COMMIT).
ALTER TABLE deployments ADD COLUMN last_seq bigint NOT NULL DEFAULT 0;

UPDATE deployments d SET last_seq = e.seq
  FROM (SELECT deployment_id, max(seq) AS seq FROM deployment_events GROUP BY deployment_id) e
  WHERE e.deployment_id = d.id;
