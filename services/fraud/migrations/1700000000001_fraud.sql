-- Up Migration

-- Every version of the rule set, append-only; the highest version is in force. Version 1 (the defaults)
-- is written by the service the first time it reads the rules.
CREATE TABLE rule_versions (
  version integer PRIMARY KEY CHECK (version > 0),
  rules jsonb NOT NULL,
  changed_by text NOT NULL,
  note text NOT NULL DEFAULT '',
  -- [{field, old_value, new_value}] against the previous version.
  changes jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL
);

-- One row per transaction scored, with the rule version it used. A second Score of the same
-- transaction returns this row.
CREATE TABLE scores (
  transaction_id text PRIMARY KEY,
  user_id text NOT NULL,
  -- fintech.wallet.v1.TransactionType number.
  type smallint NOT NULL,
  amount_minor bigint NOT NULL,
  currency char(3) NOT NULL,
  base_amount_minor bigint NOT NULL,
  base_currency char(3) NOT NULL,
  merchant_name text NOT NULL,
  merchant_category text NOT NULL,
  timezone text NOT NULL,
  occurred_at timestamptz NOT NULL,
  scored_at timestamptz NOT NULL,
  score smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
  -- [{rule, points, values}]
  flags jsonb NOT NULL,
  decision text NOT NULL CHECK (decision IN ('approve', 'review', 'decline')),
  rule_decision text NOT NULL CHECK (rule_decision IN ('approve', 'review', 'decline')),
  shadow boolean NOT NULL,
  rule_version integer NOT NULL REFERENCES rule_versions (version)
);
CREATE INDEX scores_scored_at_idx ON scores (scored_at);

-- A transaction held for an analyst; written in the same transaction as its score, decided once.
CREATE TABLE reviews (
  transaction_id text PRIMARY KEY REFERENCES scores (transaction_id),
  user_id text NOT NULL,
  score smallint NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'approved', 'rejected')),
  created_at timestamptz NOT NULL,
  analyst_id text,
  note text,
  decided_at timestamptz,
  CHECK ((status = 'open') = (decided_at IS NULL))
);
CREATE INDEX reviews_queue_idx ON reviews (status, created_at, transaction_id);
CREATE INDEX reviews_created_at_idx ON reviews (created_at);

-- Features, fed by wallet.transaction.created (never read from the wallet's tables).
-- Each user's recent transactions: velocity and duplicates when Redis is unavailable. Pruned past the
-- longest window the rules may use.
CREATE TABLE user_transactions (
  transaction_id text PRIMARY KEY,
  user_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  -- Same type, currency, amount and merchant give the same signature (POSSIBLE_DUPLICATE).
  signature text NOT NULL
);
CREATE INDEX user_transactions_user_idx ON user_transactions (user_id, occurred_at);
CREATE INDEX user_transactions_occurred_at_idx ON user_transactions (occurred_at);

-- Per user and UTC day: transactions and their total in the base currency (UNUSUAL_AMOUNT's average).
CREATE TABLE user_daily_totals (
  user_id text NOT NULL,
  day date NOT NULL,
  tx_count integer NOT NULL CHECK (tx_count > 0),
  base_total_minor bigint NOT NULL CHECK (base_total_minor >= 0),
  PRIMARY KEY (user_id, day)
);
CREATE INDEX user_daily_totals_day_idx ON user_daily_totals (day);

-- Down Migration
DROP TABLE user_daily_totals;
DROP TABLE user_transactions;
DROP TABLE reviews;
DROP TABLE scores;
DROP TABLE rule_versions;
