-- Listings filtered by status (`GET /deployments?status=...`) walk this index in their order,
-- newest first with the id as tie-breaker, and count their matches from it alone, without
-- reading the wide rows (index-only scans). It covers every use of
-- `deployments_status_created`, which it replaces.
CREATE INDEX deployments_status_created_id ON deployments (status, created_at DESC, id DESC);
DROP INDEX deployments_status_created;
