-- Up Migration

-- Users' addresses, kept from identity's events (and from identity itself for a user whose events have not
-- arrived yet). version is when identity made the change: an older event never overwrites a newer state.
CREATE TABLE mail_recipients (
  user_id text PRIMARY KEY,
  email text NOT NULL,
  deleted boolean NOT NULL,
  version timestamptz NOT NULL
);

-- The kinds of e-mail a user switched; no row means every kind is on.
CREATE TABLE mail_preferences (
  user_id text PRIMARY KEY,
  receipts boolean NOT NULL,
  reviews boolean NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Mails to send, at least once: a sender locks one due row (FOR UPDATE SKIP LOCKED), sends it and marks it in
-- the same transaction. (event_id, template) is the mail's idempotency key: one event never queues two mails.
CREATE TABLE mail_queue (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL,
  template text NOT NULL,
  user_id text NOT NULL,
  content jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  UNIQUE (event_id, template)
);
CREATE INDEX mail_queue_due_idx ON mail_queue (next_attempt_at, id) WHERE status = 'pending';

-- Down Migration
DROP TABLE mail_queue;
DROP TABLE mail_preferences;
DROP TABLE mail_recipients;
