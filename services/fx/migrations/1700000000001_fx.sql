-- Up Migration

-- The current rate of each pair a person or provider has set: "1 base = rate quote". Only one
-- direction of a pair is stored; setting the other direction replaces it.
CREATE TABLE rates (
  base char(3) NOT NULL,
  quote char(3) NOT NULL,
  rate numeric(30, 12) NOT NULL CHECK (rate > 0),
  source text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (base, quote),
  CHECK (base <> quote)
);

-- Every rate ever set, append-only.
CREATE TABLE rate_history (
  id bigserial PRIMARY KEY,
  base char(3) NOT NULL,
  quote char(3) NOT NULL,
  rate numeric(30, 12) NOT NULL CHECK (rate > 0),
  source text NOT NULL,
  effective_at timestamptz NOT NULL
);
CREATE INDEX rate_history_pair_idx ON rate_history (base, quote, id DESC);

-- A quote locks a rate for an amount until expires_at and can be redeemed once.
CREATE TABLE quotes (
  id uuid PRIMARY KEY,
  from_currency char(3) NOT NULL,
  to_currency char(3) NOT NULL,
  rate numeric(30, 12) NOT NULL,
  mid_rate numeric(30, 12) NOT NULL,
  spread_bps integer NOT NULL CHECK (spread_bps >= 0),
  from_amount bigint NOT NULL CHECK (from_amount > 0),
  to_amount bigint NOT NULL CHECK (to_amount > 0),
  spread_amount bigint NOT NULL CHECK (spread_amount >= 0),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  redeemed_at timestamptz
);
CREATE INDEX quotes_expires_at_idx ON quotes (expires_at) WHERE redeemed_at IS NULL;

-- Down Migration
DROP TABLE quotes;
DROP TABLE rate_history;
DROP TABLE rates;
