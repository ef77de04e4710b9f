-- Up Migration

-- The order deliveries were queued in, which breaks ties of next_attempt_at: a batch of events queues its
-- deliveries at one time, and an endpoint's are claimed in the order of their events. The column is added
-- without a default and given one after, so the table is not rewritten: rows queued before have none (NULL,
-- sorted first), new ones take the sequence's next value.
CREATE SEQUENCE webhook_deliveries_seq_seq;
ALTER TABLE webhook_deliveries ADD COLUMN seq bigint;
ALTER TABLE webhook_deliveries ALTER COLUMN seq SET DEFAULT nextval('webhook_deliveries_seq_seq');
ALTER SEQUENCE webhook_deliveries_seq_seq OWNED BY webhook_deliveries.seq;

-- Down Migration
ALTER TABLE webhook_deliveries DROP COLUMN seq;
