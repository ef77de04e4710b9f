-- Up Migration

-- The durable copy of the hot days: every hot increment is added here in the transaction that records its
-- events in the inbox, so Redis is never the only copy of a counted event. Redis holds the same counters for
-- fast reads and is rebuilt from this table when it loses them (see README "Redis data loss"). The mover
-- adds a day from here into day_aggregates and sets moved in one statement, so it never reads Redis; moved
-- rows count nowhere and are deleted once the day's Redis fields are.
CREATE TABLE hot_aggregates (
  scope text NOT NULL,
  day date NOT NULL,
  counters jsonb NOT NULL DEFAULT '{}'::jsonb,
  moved boolean NOT NULL DEFAULT false,
  PRIMARY KEY (scope, day)
);
-- The mover's scan: oldest days first.
CREATE INDEX hot_aggregates_day_idx ON hot_aggregates (day, scope);

-- The hot store's generation: written into Redis (one marker key per hash-tag bucket) when the hot store is
-- built from hot_aggregates. A marker missing or different means Redis lost (or never had) that data.
-- 0: never built; the first build adopts the counters an earlier version kept only in Redis (hot_days).
ALTER TABLE hot_state ADD COLUMN generation bigint NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE hot_state DROP COLUMN generation;
DROP TABLE hot_aggregates;
