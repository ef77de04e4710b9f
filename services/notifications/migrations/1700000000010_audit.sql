-- Up Migration

-- The audit trail: one row per audited action, as the acting service recorded it (fintech.audit.v1.AuditEntry).
-- seq is the trail's order; the consumer inserts under a transaction advisory lock, so seq order is commit order
-- and the sealer never sees a seq after a later one has been sealed.
CREATE TABLE audit_records (
  seq bigserial PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  service text NOT NULL,
  action text NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  actor_roles text[] NOT NULL,
  actor_credential text NOT NULL,
  request_id text NOT NULL,
  client_ip text NOT NULL,
  subject_type text NOT NULL,
  subject_id text NOT NULL,
  before jsonb,
  after jsonb,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL
);

CREATE INDEX audit_records_actor_idx ON audit_records (actor_id, seq);
CREATE INDEX audit_records_action_idx ON audit_records (action, seq);
CREATE INDEX audit_records_subject_idx ON audit_records (subject_id, seq);
CREATE INDEX audit_records_occurred_idx ON audit_records (occurred_at);

-- The hash chain, written by one sealer at a time: hash = SHA-256(prev_hash || canonical record), in seq order.
CREATE TABLE audit_chain (
  seq bigint PRIMARY KEY,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  sealed_at timestamptz NOT NULL
);

-- The chain head, signed at intervals (Ed25519) and also published outside this database.
CREATE TABLE audit_checkpoints (
  id bigserial PRIMARY KEY,
  seq bigint NOT NULL,
  hash bytea NOT NULL,
  public_key bytea NOT NULL,
  signature bytea NOT NULL,
  created_at timestamptz NOT NULL
);

-- Append-only: the database itself refuses to change or remove what was written.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on % refused: the audit trail is append-only', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Per statement, so that even a statement that would touch no row is refused.
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Down Migration

DROP TABLE IF EXISTS audit_checkpoints;
DROP TABLE IF EXISTS audit_chain;
DROP TABLE IF EXISTS audit_records;
DROP FUNCTION IF EXISTS audit_append_only();
