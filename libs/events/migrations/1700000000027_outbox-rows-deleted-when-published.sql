-- Up Migration

-- The relay deletes a row in the transaction that published it (once JetStream acknowledged it), so the outbox
-- holds only what waits. Releases before this one marked published rows here and kept them a day; the relay
-- deletes what they marked. The claim still skips such rows, so that it never publishes one a second time.
COMMENT ON COLUMN outbox.published_at IS
  'Set only by releases that marked published rows instead of deleting them; the relay deletes such rows.';

-- Down Migration

COMMENT ON COLUMN outbox.published_at IS NULL;
