-- Up Migration

-- Users. Soft-deleted rows stay (deleted_at set) for audit; their email stays taken and cannot log in.
CREATE TABLE users (
  id uuid PRIMARY KEY,
  -- Lower-case; unique across every row, deleted ones included.
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  -- argon2id PHC string.
  password_hash text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
  timezone text NOT NULL,
  default_currency char(3) NOT NULL,
  roles text[] NOT NULL CHECK (roles <@ ARRAY['user', 'admin']::text[] AND cardinality(roles) > 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  deleted_at timestamptz
);

-- Failed logins per account (by normalised email, known or not). A successful login deletes the row.
CREATE TABLE login_throttle (
  email text PRIMARY KEY,
  failures integer NOT NULL CHECK (failures >= 0),
  last_failure_at timestamptz NOT NULL,
  locked_until timestamptz
);

-- Opaque refresh tokens, stored as SHA-256 of the token. Each login starts a family; each refresh spends
-- one token (used_at) and adds the next to the family; a spent token presented again revokes the family.
CREATE TABLE refresh_tokens (
  id uuid PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  family_id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- API keys: "fk_<lookup>_<secret>"; the lookup part is the prefix (indexed, not secret), the whole key is
-- stored as SHA-256 only.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id),
  name text NOT NULL,
  prefix text NOT NULL UNIQUE,
  key_hash bytea NOT NULL,
  created_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at DESC, id DESC) WHERE revoked_at IS NULL;

-- Ed25519 signing keys. A key signs from activates_at until retired_at (the next key's activation) and is
-- published in the JWKS from creation until every token it signed has expired.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  public_jwk jsonb NOT NULL,
  -- PKCS#8 PEM. Never logged.
  private_key text NOT NULL,
  created_at timestamptz NOT NULL,
  activates_at timestamptz NOT NULL,
  retired_at timestamptz
);

-- Down Migration
DROP TABLE signing_keys;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE login_throttle;
DROP TABLE users;
