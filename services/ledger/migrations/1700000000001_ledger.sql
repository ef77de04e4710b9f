-- Up Migration

-- Accounts and their running balances (minor units). Balances change only in the transaction that inserts the
-- transfers causing the change; CheckIntegrity recomputes them from the transfers. fillfactor leaves room on
-- each page so balance updates stay HOT (no index touches).
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  currency char(3) NOT NULL,
  kind text NOT NULL CHECK (kind IN ('general', 'settlement', 'merchant_clearing', 'fx_liquidity', 'revenue', 'fees')),
  code integer NOT NULL CHECK (code >= 0),
  owner_ref text NOT NULL,
  debits_must_not_exceed_credits boolean NOT NULL,
  credits_must_not_exceed_debits boolean NOT NULL,
  closed boolean NOT NULL DEFAULT false,
  debits_pending bigint NOT NULL DEFAULT 0,
  debits_posted bigint NOT NULL DEFAULT 0,
  credits_pending bigint NOT NULL DEFAULT 0,
  credits_posted bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  -- When the last transfer touching the account was applied: transfer timestamps never go back per account.
  updated_at timestamptz NOT NULL,
  CHECK (debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0),
  CHECK (NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)),
  CHECK (NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted),
  CHECK (NOT credits_must_not_exceed_debits OR credits_posted + credits_pending <= debits_posted)
) WITH (fillfactor = 80);

-- One system account per kind and currency.
CREATE UNIQUE INDEX accounts_system_idx ON accounts (kind, currency) WHERE kind <> 'general';

-- Every transfer ever applied, immutable. A two-phase transfer is a pending row plus the post or void row that
-- resolves it (pending_id); a refund or correction is a new transfer. Each row keeps both accounts' balances
-- right after it, so a balance at a point in time is one index lookup.
CREATE TABLE transfers (
  id uuid PRIMARY KEY,
  -- Apply order: increasing per account (a batch takes its numbers after locking its accounts).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  kind text NOT NULL CHECK (kind IN ('single', 'pending', 'post', 'void')),
  linked boolean NOT NULL,
  -- A void the ledger made because the pending transfer timed out.
  expired boolean NOT NULL,
  debit_account_id uuid NOT NULL,
  credit_account_id uuid NOT NULL,
  -- Moved (single, post), reserved (pending) or released (void).
  amount bigint NOT NULL CHECK (amount > 0),
  -- post/void: the pending transfer's amount, all of it released from the pending balances.
  pending_amount bigint NOT NULL CHECK (pending_amount >= 0),
  currency char(3) NOT NULL,
  code integer NOT NULL CHECK (code >= 0),
  pending_id uuid,
  timeout_seconds integer NOT NULL CHECK (timeout_seconds >= 0),
  expires_at timestamptz,
  reference text NOT NULL,
  description text NOT NULL,
  user_data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  debit_debits_pending bigint NOT NULL,
  debit_debits_posted bigint NOT NULL,
  debit_credits_pending bigint NOT NULL,
  debit_credits_posted bigint NOT NULL,
  credit_debits_pending bigint NOT NULL,
  credit_debits_posted bigint NOT NULL,
  credit_credits_pending bigint NOT NULL,
  credit_credits_posted bigint NOT NULL,
  CHECK (debit_account_id <> credit_account_id),
  CHECK ((kind IN ('post', 'void')) = (pending_id IS NOT NULL)),
  CHECK (kind IN ('post', 'void') OR pending_amount = 0),
  CHECK (amount <= pending_amount OR kind NOT IN ('post', 'void'))
);

-- A pending transfer is resolved at most once.
CREATE UNIQUE INDEX transfers_pending_id_idx ON transfers (pending_id) WHERE pending_id IS NOT NULL;
CREATE INDEX transfers_debit_idx ON transfers (debit_account_id, created_at, seq);
CREATE INDEX transfers_credit_idx ON transfers (credit_account_id, created_at, seq);

-- Unresolved pending transfers with a timeout: the expiry sweeper's work queue, deleted on resolution.
CREATE TABLE pending_timeouts (
  pending_id uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX pending_timeouts_expires_at_idx ON pending_timeouts (expires_at);

-- History cannot be rewritten, whoever connects: no UPDATE, DELETE or TRUNCATE of transfers.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger %: % on % is not allowed', TG_ARGV[0], TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('transfers are immutable');
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change('transfers are immutable');

-- Accounts are never deleted and only their balances, updated_at and closed (once, for good) change. The WHEN
-- clause keeps the trigger out of the hot path: balance updates never call it.
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('accounts are never deleted');
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change('accounts are never deleted');
CREATE TRIGGER accounts_identity_fixed BEFORE UPDATE ON accounts FOR EACH ROW
  WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.currency IS DISTINCT FROM NEW.currency
    OR OLD.kind IS DISTINCT FROM NEW.kind OR OLD.code IS DISTINCT FROM NEW.code
    OR OLD.owner_ref IS DISTINCT FROM NEW.owner_ref
    OR OLD.debits_must_not_exceed_credits IS DISTINCT FROM NEW.debits_must_not_exceed_credits
    OR OLD.credits_must_not_exceed_debits IS DISTINCT FROM NEW.credits_must_not_exceed_debits
    OR OLD.created_at IS DISTINCT FROM NEW.created_at OR (OLD.closed AND NOT NEW.closed))
  EXECUTE FUNCTION ledger_refuse_change('account identity is fixed');

-- Down Migration
DROP TABLE pending_timeouts;
DROP TRIGGER transfers_immutable ON transfers;
DROP TRIGGER transfers_no_truncate ON transfers;
DROP TABLE transfers;
DROP TABLE accounts;
DROP FUNCTION ledger_refuse_change();
