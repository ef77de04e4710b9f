-- Up Migration

-- No NOTIFY at an outbox commit any more: NOTIFY takes one lock for the whole database at commit and holds it
-- until the commit is flushed, so every transaction that wrote events waited for every other one's commit, in
-- every service sharing the database. The process that writes rows wakes its own relay after the commit
-- (libs/events' outboxWritten); other relays find the rows at their poll.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();

-- Down Migration

CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(left('outbox.' || TG_TABLE_SCHEMA, 63), '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
