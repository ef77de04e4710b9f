-- Up Migration

-- Endpoints that receive events. user_id is the owner; NULL for a platform-wide endpoint (an admin's), which
-- receives every user's events. Secrets are AES-256-GCM sealed under WEBHOOK_SECRET_KEY (secret-box.ts);
-- during a rotation the previous secret keeps signing until previous_secret_expires_at.
CREATE TABLE webhook_endpoints (
  id uuid PRIMARY KEY,
  user_id uuid,
  created_by text NOT NULL,
  url text NOT NULL,
  event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
  description text NOT NULL DEFAULT '',
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text NOT NULL DEFAULT '',
  secret bytea NOT NULL,
  previous_secret bytea,
  previous_secret_expires_at timestamptz,
  -- Set by the first failed delivery after a success; the endpoint is disabled once it is old enough.
  failing_since timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (user_id, created_at DESC, id DESC);

-- Every event kept once, as the exact body sent (what is signed), for retries, re-sends and replays.
CREATE TABLE webhook_events (
  id uuid PRIMARY KEY,
  type text NOT NULL,
  -- Whose event it is; NULL for one that belongs to no user.
  user_id uuid,
  body text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_events_user_time ON webhook_events (user_id, created_at);
CREATE INDEX webhook_events_time ON webhook_events (created_at);

-- One event to one endpoint, tried until it succeeds or the retry period ends. A worker claims a due row by
-- moving next_attempt_at past its lease (leased_until), so a worker that dies mid-delivery leaves it due again.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id uuid NOT NULL REFERENCES webhook_events (id),
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  leased_until timestamptz,
  last_response_code integer,
  last_error text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  completed_at timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_due ON webhook_deliveries (endpoint_id, next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);

-- Every attempt of a delivery: when, how long, what came back.
CREATE TABLE webhook_attempts (
  delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms integer NOT NULL,
  response_code integer,
  error text NOT NULL DEFAULT '',
  PRIMARY KEY (delivery_id, attempt)
);
