-- Each stored event wakes the nodes that stream this deployment's events (SSE): a notification
-- on channel `deployment_events` whose payload is the deployment id alone (PostgreSQL caps a
-- payload at 8000 bytes, and a listener only needs to know whom to read). It is sent when the
-- appending transaction commits; one append of several events sends one notification, since
-- PostgreSQL folds identical notifications of a transaction into one.
CREATE FUNCTION deployment_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('deployment_events', NEW.deployment_id::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER deployment_events_notify AFTER INSERT ON deployment_events
  FOR EACH ROW EXECUTE FUNCTION deployment_events_notify();
