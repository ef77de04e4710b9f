-- Up Migration

-- Raised by a batch's write (store.writeBatch) to undo the whole statement: a transfer id of the batch is stored
-- already (unique_violation, 23505), or an account the batch read without a lock changed before the write
-- (serialization_failure, 40001). The ledger reruns the batch under row locks in either case.
CREATE FUNCTION ledger_batch_conflict(state text, message text) RETURNS int4 LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = state, MESSAGE = message;
END;
$$;

-- Down Migration
DROP FUNCTION IF EXISTS ledger_batch_conflict(text, text);
