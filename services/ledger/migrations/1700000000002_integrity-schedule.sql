-- Up Migration

-- When the scheduled integrity check last ran (by the ledger's clock). A replica runs the check only after
-- moving this forward, in the transaction that reads the book, so however many replicas run the schedule the book
-- is checked once per interval, and a violation is published once.
CREATE TABLE integrity_schedule (
  id int4 PRIMARY KEY CHECK (id = 1),
  last_run_at timestamptz NULL
);
INSERT INTO integrity_schedule (id) VALUES (1);

-- Down Migration
DROP TABLE IF EXISTS integrity_schedule;
