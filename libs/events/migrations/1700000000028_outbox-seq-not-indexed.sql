-- Up Migration

-- The relay claims rows through the unpublished rows' index (seq, where published_at is null) and deletes them by
-- id; nothing looks a row up by seq alone, and a sequence's values are distinct without an index to enforce it.
-- Every event written went into this index as well: one index entry fewer per event.
ALTER TABLE outbox DROP CONSTRAINT outbox_seq_key;

-- Down Migration

ALTER TABLE outbox ADD CONSTRAINT outbox_seq_key UNIQUE (seq);
