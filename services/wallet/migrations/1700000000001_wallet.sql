-- Up Migration

-- The users the wallet serves, projected from identity's events (and from identity's GetUser when a request
-- beats the event): only what money movement needs. `version` is the occurred_at of the change applied last,
-- so an older event arriving late never overwrites a newer state.
CREATE TABLE users (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'closed', 'deleted')),
  timezone text NOT NULL,
  default_currency char(3) NOT NULL,
  version timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One wallet per user per currency. The id is also the wallet's ledger account id; the balance lives in the
-- ledger only. ledger_ready: the ledger account is known to exist.
CREATE TABLE wallets (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  currency char(3) NOT NULL,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL,
  UNIQUE (user_id, currency)
);

-- The user-facing money movements. A transfer is two rows, one per side (direction outgoing/incoming, each
-- naming the other in related_transaction_id); the outgoing row drives, the incoming one mirrors its status.
-- stage: where the processing is ('new': nothing held or posted yet; 'held': pending ledger transfers wait for
-- a fraud decision; 'done'); lease_until: when the recovery pass may take an unfinished row over.
-- legs: the ledger transfers the transaction makes, fixed when it is created, so every later step (post,
-- hold, settle, void, reverse) sends exactly the same transfers under ids derived from the row's id.
CREATE TABLE transactions (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  wallet_id uuid NOT NULL,
  transaction_type text NOT NULL
    CHECK (transaction_type IN ('top_up', 'withdrawal', 'purchase', 'transfer', 'conversion', 'refund')),
  status text NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'reversed')),
  stage text NOT NULL CHECK (stage IN ('new', 'held', 'done')),
  lease_until timestamptz,
  amount bigint NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  -- amount in major units, for filters and sorting across currencies with different minor units.
  amount_major numeric NOT NULL,
  charged_amount bigint NOT NULL CHECK (charged_amount > 0),
  charged_currency char(3) NOT NULL,
  rate text NOT NULL DEFAULT '',
  to_wallet_id uuid,
  to_amount bigint,
  to_currency char(3),
  spread_amount bigint,
  quote_id uuid,
  counterparty_user_id text,
  related_transaction_id uuid,
  direction text NOT NULL DEFAULT '',
  merchant_name text NOT NULL DEFAULT '',
  merchant_category text NOT NULL DEFAULT '',
  source text NOT NULL DEFAULT '',
  description text NOT NULL DEFAULT '',
  tags text[] NOT NULL DEFAULT '{}',
  reason text NOT NULL DEFAULT '',
  original_transaction_id uuid,
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
  base_amount bigint NOT NULL,
  base_currency char(3) NOT NULL,
  timezone text NOT NULL,
  -- The user's local day the transaction counts on in daily_spending; null when it does not count.
  limit_day date,
  needs_score boolean NOT NULL,
  fraud_score integer NOT NULL DEFAULT 0,
  fraud_flags text[] NOT NULL DEFAULT '{}',
  fraud_decision text NOT NULL DEFAULT '',
  failure_reason text NOT NULL DEFAULT '',
  legs jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The lists: a user's or a wallet's transactions newest (or oldest) first, or by amount; keyset pagination
-- on (key, id). Other filters (status, type, category, dates, amounts) narrow these scans.
CREATE INDEX transactions_user_created_idx ON transactions (user_id, created_at, id);
CREATE INDEX transactions_user_amount_idx ON transactions (user_id, amount_major, id);
CREATE INDEX transactions_user_category_idx ON transactions (user_id, merchant_category, created_at)
  WHERE merchant_category <> '';
CREATE INDEX transactions_wallet_created_idx ON transactions (wallet_id, created_at, id);
CREATE INDEX transactions_to_wallet_created_idx ON transactions (to_wallet_id, created_at, id)
  WHERE transaction_type = 'conversion';
CREATE INDEX transactions_original_idx ON transactions (original_transaction_id)
  WHERE original_transaction_id IS NOT NULL;
-- The recovery pass: unfinished rows whose lease ran out.
CREATE INDEX transactions_unfinished_idx ON transactions (lease_until) WHERE stage <> 'done';

-- What each user has spent (purchases, withdrawals, outgoing transfers; pending and completed) per local
-- calendar day, in base-currency minor units. The daily limit is one atomic increment here that carries the
-- limit in force: going over it violates the CHECK, which aborts the whole statement recording the
-- transaction, so a refused transaction leaves nothing behind and concurrent ones serialise on the row.
CREATE TABLE daily_spending (
  user_id text NOT NULL,
  day date NOT NULL,
  base_total bigint NOT NULL CHECK (base_total >= 0),
  limit_total bigint NOT NULL,
  CONSTRAINT daily_spending_within_limit CHECK (base_total <= limit_total),
  PRIMARY KEY (user_id, day)
);

-- Idempotency-Key: per caller and key, the request's hash and, once answered, the answer to replay.
CREATE TABLE idempotency_keys (
  principal text NOT NULL,
  key text NOT NULL,
  request_hash bytea NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'done')),
  -- The response message (binary protobuf) of a success, or null.
  response bytea,
  -- {code, reason, message, metadata} of a refusal, or null.
  error jsonb,
  locked_until timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE daily_spending;
DROP TABLE transactions;
DROP TABLE wallets;
DROP TABLE users;
