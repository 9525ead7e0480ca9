-- Clones one COMPLETED deployment (psql variable `src`, its id) `n` times, with its snapshot
-- and event log, under fresh ids and names (`scale-<i>`), one second apart in created_at. Ids
-- and names inside the JSON documents are rewritten, so each clone reads as a deployment of its
-- own (same cloud resource ids: the bench never touches the cloud for them).
\set ON_ERROR_STOP on
SET synchronous_commit = off;
BEGIN;
CREATE TEMP TABLE clone ON COMMIT DROP AS
  SELECT gen_random_uuid() AS id, i, 'scale-' || i AS name FROM generate_series(1, :n) AS i;
CREATE TEMP TABLE source ON COMMIT DROP AS
  SELECT d.*, d.id::text AS id_text, d.name AS old_name FROM deployments d WHERE d.id = :'src';
INSERT INTO deployments (id, name, status, template, template_id, parameters, cloud_region,
                         resources, operation, epoch, owner_node, created_at, updated_at,
                         deleted_at, last_seq)
SELECT c.id, c.name, s.status, s.template, s.template_id, s.parameters, s.cloud_region,
       replace(s.resources::text, '"' || s.old_name || '-', '"' || c.name || '-')::jsonb,
       s.operation, s.epoch, s.owner_node, s.created_at - make_interval(secs => c.i),
       s.updated_at - make_interval(secs => c.i), NULL, s.last_seq
FROM clone c CROSS JOIN source s;
INSERT INTO deployment_snapshots (deployment_id, seq, state, epoch, taken_at)
SELECT c.id, p.seq,
       replace(replace(p.state::text, s.id_text, c.id::text),
               '"' || s.old_name, '"' || c.name)::jsonb,
       p.epoch, p.taken_at
FROM clone c CROSS JOIN source s JOIN deployment_snapshots p ON p.deployment_id = s.id;
INSERT INTO deployment_events (deployment_id, seq, at, type, data)
SELECT c.id, e.seq, e.at - make_interval(secs => c.i), e.type,
       replace(replace(e.data::text, s.id_text, c.id::text),
               '"' || s.old_name, '"' || c.name)::jsonb
FROM clone c CROSS JOIN source s JOIN deployment_events e ON e.deployment_id = s.id;
COMMIT;
ANALYZE deployments;
ANALYZE deployment_snapshots;
ANALYZE deployment_events;
