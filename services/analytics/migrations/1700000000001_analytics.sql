-- Up Migration

-- Aggregates are integer counters (counts and amounts in minor units) per scope and day: scope "u:<user id>"
-- (days in the user's time zone), "p" (platform, UTC days) or "f" (fraud, UTC days). Recent days are counted
-- in Redis (hot); the mover adds older ones here (cold). Counters are jsonb objects of field -> integer text.

-- The hot/cold boundary: events for a day before cold_before are added to day_aggregates directly, in the
-- transaction that records them in the inbox; later days go to Redis. The mover moves the boundary forward
-- under this row's lock, so no transaction routes an event by a boundary that has since moved.
CREATE TABLE hot_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  cold_before date NULL
);
INSERT INTO hot_state (id, cold_before) VALUES (1, NULL);

-- The event-time clock: per consumer, the latest time an event says its change happened.
CREATE TABLE watermarks (
  consumer text PRIMARY KEY,
  event_time timestamptz NOT NULL
);

-- Cold counters. hot_merged: this day's Redis counters have been added (the mover's confirmation; it is set in
-- the same statement as the addition, so a second move of the same day adds nothing).
CREATE TABLE day_aggregates (
  scope text NOT NULL,
  day date NOT NULL,
  counters jsonb NOT NULL DEFAULT '{}'::jsonb,
  hot_merged boolean NOT NULL DEFAULT false,
  PRIMARY KEY (scope, day)
);

-- Every (scope, day) with counters in Redis, oldest day first, for the mover.
CREATE TABLE hot_days (
  day date NOT NULL,
  scope text NOT NULL,
  PRIMARY KEY (day, scope)
);

-- Hot increments committed with their inbox rows but maybe not yet applied to Redis. Whoever applies one holds
-- its row lock, applies it under a per-scope marker in Redis, then deletes it: a crash between the commit and
-- the increment loses nothing (the row stays and is applied later) and counts nothing twice (the marker).
CREATE TABLE pending_batches (
  id bigserial PRIMARY KEY,
  deltas jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The merchant category of each completed purchase: refunds carry none and count against their purchase's.
CREATE TABLE purchase_categories (
  transaction_id text PRIMARY KEY,
  category text NOT NULL
);

-- a + b, field by field, fields summing to zero dropped.
CREATE FUNCTION counters_add(a jsonb, b jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(jsonb_object_agg(key, total::text), '{}'::jsonb)
  FROM (
    SELECT key, sum(value::numeric) AS total
    FROM (SELECT * FROM jsonb_each_text(a) UNION ALL SELECT * FROM jsonb_each_text(b)) AS sides
    GROUP BY key
  ) AS sums
  WHERE total <> 0
$$;

-- CSV imports. csv is kept until the import finishes so that one interrupted by a restart runs again (its
-- rows' event ids are derived from the file, so rows already published are not counted twice).
CREATE TABLE imports (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  file_name text NOT NULL,
  file_sha256 text NOT NULL,
  user_id text NOT NULL,
  timezone text NOT NULL,
  replay boolean NOT NULL,
  speed double precision NOT NULL,
  csv text NULL,
  bytes_total bigint NOT NULL,
  bytes_processed bigint NOT NULL DEFAULT 0,
  rows_total bigint NOT NULL,
  rows_processed bigint NOT NULL DEFAULT 0,
  rows_imported bigint NOT NULL DEFAULT 0,
  rows_failed bigint NOT NULL DEFAULT 0,
  errors jsonb NOT NULL DEFAULT '[]'::jsonb,
  errors_truncated boolean NOT NULL DEFAULT false,
  rows_per_second double precision NOT NULL DEFAULT 0,
  duplicate_of uuid NULL,
  failure text NOT NULL DEFAULT '',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  finished_at timestamptz NULL
);
CREATE INDEX imports_file_idx ON imports (file_sha256, user_id, created_at);
CREATE INDEX imports_running_idx ON imports (heartbeat_at) WHERE status = 'running';

-- Down Migration
DROP TABLE imports;
DROP FUNCTION counters_add(jsonb, jsonb);
DROP TABLE purchase_categories;
DROP TABLE pending_batches;
DROP TABLE hot_days;
DROP TABLE day_aggregates;
DROP TABLE watermarks;
DROP TABLE hot_state;
