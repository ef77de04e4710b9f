-- Up Migration

-- Events written in the same transaction as the state change they describe; the relay publishes them to
-- JetStream and sets published_at. seq gives the relay a cheap, gap-tolerant publish order.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  seq bigserial NOT NULL UNIQUE,
  subject text NOT NULL,
  type text NOT NULL,
  payload bytea NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz NULL
);

-- Only the backlog is scanned by the relay, so the index stays as small as the backlog.
CREATE INDEX outbox_unpublished_seq_idx ON outbox (seq) WHERE published_at IS NULL;

-- One row per (consumer, event) already applied: the insert commits with the handler's effect, so a
-- redelivered event finds its row and has no second effect.
CREATE TABLE inbox (
  consumer text NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Wakes the relay at commit time (NOTIFY is transactional: a rolled-back insert sends nothing). The payload
-- is the schema so that relays of other services sharing the database ignore it.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', TG_TABLE_SCHEMA);
  RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Down Migration

DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
DROP TABLE IF EXISTS inbox;
DROP TABLE IF EXISTS outbox;
