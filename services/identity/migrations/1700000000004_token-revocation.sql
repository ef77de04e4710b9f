-- Up Migration

-- When the user's access tokens were last revoked (suspended, closed or deleted): every verifier refuses a token
-- issued before it, so tokens do not come back to life when a suspended user is reactivated.
ALTER TABLE users ADD COLUMN tokens_revoked_at timestamptz;

-- Down Migration
ALTER TABLE users DROP COLUMN tokens_revoked_at;
