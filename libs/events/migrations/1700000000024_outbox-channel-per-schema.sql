-- Up Migration

-- Each schema's outbox wakes its own relays only: on the one channel every service's relays listened to, each
-- commit that wrote events woke every relay of every service sharing the database, each to read the
-- notification and drop it. The channel is the schema's name after "outbox.", cut to the 63 bytes a channel
-- name may have (a relay computes the same name the same way). A relay of the previous version listens on
-- "outbox" and is no longer woken: it publishes on its poll interval (a second) until it is replaced.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify(left('outbox.' || TG_TABLE_SCHEMA, 63), '');
  RETURN NULL;
END;
$$;

-- Down Migration

CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END;
$$;
