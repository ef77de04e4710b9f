-- Up Migration

-- The transaction a keyed request creates gets its id when the key is claimed, and the key keeps it: every
-- attempt under the key (a retry after a crash, a timeout, a lost answer) creates the transaction under that
-- same id, so the transactions primary key lets it be recorded once, and an attempt that finds it recorded
-- answers it instead of moving the money again. A reversal, which creates no row, rebinds the key to the
-- transaction it reversed inside the database transaction that reverses it. Null: a key from before this
-- column, which gets an id when it is next claimed.
ALTER TABLE idempotency_keys ADD COLUMN transaction_id uuid;

-- Down Migration
ALTER TABLE idempotency_keys DROP COLUMN transaction_id;
