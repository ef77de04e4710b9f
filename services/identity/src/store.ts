import type { Role } from "@fintech/auth";
import type { Queryable } from "@fintech/db";

export type UserStatus = "active" | "suspended" | "closed";

export interface UserRow {
  id: string;
  email: string;
  fullName: string;
  passwordHash: string;
  status: UserStatus;
  timezone: string;
  defaultCurrency: string;
  roles: Role[];
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  /** Access tokens issued before this are revoked; null when none are. */
  tokensRevokedAt: Date | null;
}

export interface ThrottleRow {
  failures: number;
  lastFailureAt: Date;
  lockedUntil: Date | null;
}

export interface RefreshTokenRow {
  id: string;
  familyId: string;
  userId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

export interface ApiKeyRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  keyHash: Buffer;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface SigningKeyRow {
  kid: string;
  publicJwk: Record<string, string>;
  privateKey: string;
  createdAt: Date;
  activatesAt: Date;
  retiredAt: Date | null;
}

interface UserRecord {
  id: string;
  email: string;
  full_name: string;
  password_hash: string;
  status: UserStatus;
  timezone: string;
  default_currency: string;
  roles: Role[];
  created_at: Date;
  updated_at: Date;
  deleted_at: Date | null;
  tokens_revoked_at: Date | null;
}

const toUser = (r: UserRecord): UserRow => ({
  id: r.id,
  email: r.email,
  fullName: r.full_name,
  passwordHash: r.password_hash,
  status: r.status,
  timezone: r.timezone,
  defaultCurrency: r.default_currency,
  roles: r.roles,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  deletedAt: r.deleted_at,
  tokensRevokedAt: r.tokens_revoked_at,
});

const USER_COLUMNS = `id, email, full_name, password_hash, status, timezone, default_currency, roles, created_at,
  updated_at, deleted_at, tokens_revoked_at`;

interface ApiKeyRecord {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: Buffer;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toApiKey = (r: ApiKeyRecord): ApiKeyRow => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  keyHash: r.key_hash,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const API_KEY_COLUMNS = "id, user_id, name, prefix, key_hash, created_at, last_used_at, revoked_at";

/** The identity schema's SQL. Every function takes the connection or transaction to run on. */
export const store = {
  /** Inserts a user; throws pg's unique violation (23505) when the email is taken. */
  async insertUser(db: Queryable, u: UserRow): Promise<void> {
    await db.query(
      `INSERT INTO users (id, email, full_name, password_hash, status, timezone, default_currency, roles,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        u.id,
        u.email,
        u.fullName,
        u.passwordHash,
        u.status,
        u.timezone,
        u.defaultCurrency,
        u.roles,
        u.createdAt,
        u.updatedAt,
      ],
    );
  },

  async userById(
    db: Queryable,
    id: string,
    opts: { forUpdate?: boolean } = {},
  ): Promise<UserRow | undefined> {
    const { rows } = await db.query<UserRecord>(
      `SELECT ${USER_COLUMNS} FROM users WHERE id = $1${opts.forUpdate ? " FOR UPDATE" : ""}`,
      [id],
    );
    return rows[0] && toUser(rows[0]);
  },

  async userByEmail(db: Queryable, email: string): Promise<UserRow | undefined> {
    const { rows } = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [
      email,
    ]);
    return rows[0] && toUser(rows[0]);
  },

  async updateProfile(
    db: Queryable,
    id: string,
    p: { fullName?: string | undefined; timezone?: string | undefined; defaultCurrency?: string | undefined },
    at: Date,
  ): Promise<UserRow | undefined> {
    const { rows } = await db.query<UserRecord>(
      `UPDATE users SET full_name = COALESCE($2, full_name), timezone = COALESCE($3, timezone),
         default_currency = COALESCE($4, default_currency), updated_at = $5
       WHERE id = $1 AND deleted_at IS NULL RETURNING ${USER_COLUMNS}`,
      [id, p.fullName ?? null, p.timezone ?? null, p.defaultCurrency ?? null, at],
    );
    return rows[0] && toUser(rows[0]);
  },

  async setPasswordHash(db: Queryable, id: string, hash: string): Promise<void> {
    await db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [id, hash]);
  },

  async setStatus(db: Queryable, id: string, status: UserStatus, at: Date): Promise<UserRow> {
    const { rows } = await db.query<UserRecord>(
      `UPDATE users SET status = $2, updated_at = $3,
         tokens_revoked_at = CASE WHEN $2 = 'active' THEN tokens_revoked_at ELSE $3 END
       WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, status, at],
    );
    return toUser(one(rows));
  },

  async setRoles(db: Queryable, id: string, roles: readonly Role[], at: Date): Promise<UserRow> {
    const { rows } = await db.query<UserRecord>(
      `UPDATE users SET roles = $2, updated_at = $3 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, roles, at],
    );
    return toUser(one(rows));
  },

  async markDeleted(db: Queryable, id: string, at: Date): Promise<UserRow> {
    const { rows } = await db.query<UserRecord>(
      `UPDATE users SET deleted_at = $2, updated_at = $2, tokens_revoked_at = $2 WHERE id = $1
       RETURNING ${USER_COLUMNS}`,
      [id, at],
    );
    return toUser(one(rows));
  },

  /** The account's failure record, locked for the rest of the transaction (created empty when missing). */
  async lockThrottle(db: Queryable, email: string, now: Date): Promise<ThrottleRow> {
    await db.query(
      `INSERT INTO login_throttle (email, failures, last_failure_at) VALUES ($1, 0, $2)
       ON CONFLICT (email) DO NOTHING`,
      [email, now],
    );
    const { rows } = await db.query<{ failures: number; last_failure_at: Date; locked_until: Date | null }>(
      "SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE email = $1 FOR UPDATE",
      [email],
    );
    const r = one(rows);
    return { failures: r.failures, lastFailureAt: r.last_failure_at, lockedUntil: r.locked_until };
  },

  async saveThrottle(db: Queryable, email: string, t: ThrottleRow): Promise<void> {
    await db.query(
      "UPDATE login_throttle SET failures = $2, last_failure_at = $3, locked_until = $4 WHERE email = $1",
      [email, t.failures, t.lastFailureAt, t.lockedUntil],
    );
  },

  async clearThrottle(db: Queryable, email: string): Promise<void> {
    await db.query("DELETE FROM login_throttle WHERE email = $1", [email]);
  },

  async insertRefreshToken(
    db: Queryable,
    t: { id: string; tokenHash: Buffer; familyId: string; userId: string; createdAt: Date; expiresAt: Date },
  ): Promise<void> {
    await db.query(
      `INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [t.id, t.tokenHash, t.familyId, t.userId, t.createdAt, t.expiresAt],
    );
  },

  async refreshTokenByHash(
    db: Queryable,
    tokenHash: Buffer,
    opts: { forUpdate?: boolean } = {},
  ): Promise<RefreshTokenRow | undefined> {
    const { rows } = await db.query<{
      id: string;
      family_id: string;
      user_id: string;
      expires_at: Date;
      used_at: Date | null;
      revoked_at: Date | null;
    }>(
      `SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1
       ${opts.forUpdate ? "FOR UPDATE" : ""}`,
      [tokenHash],
    );
    const r = rows[0];
    return (
      r && {
        id: r.id,
        familyId: r.family_id,
        userId: r.user_id,
        expiresAt: r.expires_at,
        usedAt: r.used_at,
        revokedAt: r.revoked_at,
      }
    );
  },

  async markRefreshTokenUsed(db: Queryable, id: string, at: Date): Promise<void> {
    await db.query("UPDATE refresh_tokens SET used_at = $2 WHERE id = $1", [id, at]);
  },

  async revokeFamily(db: Queryable, familyId: string, at: Date): Promise<number> {
    const { rowCount } = await db.query(
      "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
      [familyId, at],
    );
    return rowCount ?? 0;
  },

  async revokeUserRefreshTokens(db: Queryable, userId: string, at: Date): Promise<void> {
    await db.query("UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", [
      userId,
      at,
    ]);
  },

  async insertApiKey(db: Queryable, k: ApiKeyRow): Promise<void> {
    await db.query(
      `INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [k.id, k.userId, k.name, k.prefix, k.keyHash, k.createdAt],
    );
  },

  async apiKeyByPrefix(db: Queryable, prefix: string): Promise<ApiKeyRow | undefined> {
    const { rows } = await db.query<ApiKeyRecord>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE prefix = $1`,
      [prefix],
    );
    return rows[0] && toApiKey(rows[0]);
  },

  /** The user's unrevoked keys, newest first, keyset-paginated by (created_at, id). */
  async listApiKeys(
    db: Queryable,
    userId: string,
    opts: { limit: number; after?: { createdAt: Date; id: string } | undefined },
  ): Promise<ApiKeyRow[]> {
    const { rows } = await db.query<ApiKeyRecord>(
      `SELECT ${API_KEY_COLUMNS} FROM api_keys
       WHERE user_id = $1 AND revoked_at IS NULL AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [userId, opts.after?.createdAt ?? null, opts.after?.id ?? null, opts.limit],
    );
    return rows.map(toApiKey);
  },

  /** Revokes the user's key; false when the user has no such unrevoked key. */
  async revokeApiKey(db: Queryable, userId: string, id: string, at: Date): Promise<boolean> {
    const { rowCount } = await db.query(
      "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
      [id, userId, at],
    );
    return rowCount === 1;
  },

  async revokeUserApiKeys(db: Queryable, userId: string, at: Date): Promise<void> {
    await db.query("UPDATE api_keys SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL", [
      userId,
      at,
    ]);
  },

  /** Records use, at most once a minute per key so verification stays a read. */
  async touchApiKey(db: Queryable, id: string, at: Date): Promise<void> {
    await db.query(
      `UPDATE api_keys SET last_used_at = $2
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`,
      [id, at],
    );
  },

  async signingKeys(db: Queryable): Promise<SigningKeyRow[]> {
    const { rows } = await db.query<{
      kid: string;
      public_jwk: Record<string, string>;
      private_key: string;
      created_at: Date;
      activates_at: Date;
      retired_at: Date | null;
    }>(
      "SELECT kid, public_jwk, private_key, created_at, activates_at, retired_at FROM signing_keys ORDER BY activates_at",
    );
    return rows.map((r) => ({
      kid: r.kid,
      publicJwk: r.public_jwk,
      privateKey: r.private_key,
      createdAt: r.created_at,
      activatesAt: r.activates_at,
      retiredAt: r.retired_at,
    }));
  },

  /** Serialises key creation across replicas for the rest of the transaction. */
  async lockSigningKeys(db: Queryable): Promise<void> {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))");
  },

  async countSigningKeys(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM signing_keys");
    return rows[0]?.n ?? 0;
  },

  async insertSigningKey(db: Queryable, k: SigningKeyRow): Promise<void> {
    await db.query(
      `INSERT INTO signing_keys (kid, public_jwk, private_key, created_at, activates_at, retired_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [k.kid, JSON.stringify(k.publicJwk), k.privateKey, k.createdAt, k.activatesAt, k.retiredAt],
    );
  },

  /** Every key not yet retired retires at `at` (the next key's activation). */
  async retireSigningKeys(db: Queryable, at: Date): Promise<void> {
    await db.query("UPDATE signing_keys SET retired_at = $1 WHERE retired_at IS NULL OR retired_at > $1", [
      at,
    ]);
  },

  /** Deletes keys retired before `before` (no token they signed is still valid). */
  async deleteSigningKeysRetiredBefore(db: Queryable, before: Date): Promise<void> {
    await db.query("DELETE FROM signing_keys WHERE retired_at < $1", [before]);
  },
};

function one<T>(rows: T[]): T {
  const [row] = rows;
  if (row === undefined) throw new Error("expected one row");
  return row;
}
