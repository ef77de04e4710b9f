import type { Queryable } from "@fintech/db";
import type { EndpointRow } from "./model.js";

// The notifications service's SQL. Every function takes the pool or an open transaction.

interface EndpointRecord {
  id: string;
  user_id: string | null;
  url: string;
  event_types: string[];
  description: string;
  enabled: boolean;
  disabled_reason: string;
  secret: Buffer;
  previous_secret: Buffer | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

const ENDPOINT_COLUMNS = `id, user_id, url, event_types, description, enabled, disabled_reason, secret,
  previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at`;

const toEndpoint = (r: EndpointRecord): EndpointRow => ({
  id: r.id,
  userId: r.user_id ?? undefined,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  secret: r.secret,
  previousSecret: r.previous_secret ?? undefined,
  previousSecretExpiresAt: r.previous_secret_expires_at ?? undefined,
  failingSince: r.failing_since ?? undefined,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Which endpoints a caller sees: a user's own, and for an admin the platform-wide ones too. */
export interface Visibility {
  userId: string;
  platformWide: boolean;
}

// A row is visible when it is the user's, or platform-wide ($n IS NULL) for an admin.
const visible = (user: number, wide: number) =>
  `(user_id = $${user}::uuid OR ($${wide}::boolean AND user_id IS NULL))`;

export const store = {
  async insertEndpoint(
    db: Queryable,
    e: {
      id: string;
      userId: string | undefined;
      createdBy: string;
      url: string;
      eventTypes: readonly string[];
      description: string;
      secret: Buffer;
      at: Date;
    },
  ): Promise<EndpointRow> {
    const { rows } = await db.query<EndpointRecord>(
      `INSERT INTO webhook_endpoints (id, user_id, created_by, url, event_types, description, secret, created_at,
         updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       RETURNING ${ENDPOINT_COLUMNS}`,
      [e.id, e.userId ?? null, e.createdBy, e.url, e.eventTypes, e.description, e.secret, e.at],
    );
    return toEndpoint(rows[0] as EndpointRecord);
  },

  async endpoint(db: Queryable, id: string, who: Visibility): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRecord>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND ${visible(2, 3)}`,
      [id, who.userId, who.platformWide],
    );
    return rows[0] === undefined ? undefined : toEndpoint(rows[0]);
  },

  /** The endpoint by id whoever owns it (the delivery worker's view). */
  async endpointById(db: Queryable, id: string): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRecord>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : toEndpoint(rows[0]);
  },

  /** The caller's endpoints, newest first, after `after`. */
  async listEndpoints(
    db: Queryable,
    who: Visibility,
    opts: { limit: number; after?: { createdAt: Date; id: string } | undefined },
  ): Promise<EndpointRow[]> {
    const { rows } = await db.query<EndpointRecord>(
      `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints
       WHERE ${visible(1, 2)} AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $5`,
      [who.userId, who.platformWide, opts.after?.createdAt ?? null, opts.after?.id ?? null, opts.limit],
    );
    return rows.map(toEndpoint);
  },

  /**
   * Changes what is given of an endpoint the caller sees. Enabling clears the disabled reason and the failing
   * streak; disabling by hand records "owner". Undefined when the caller sees no such endpoint.
   */
  async updateEndpoint(
    db: Queryable,
    id: string,
    who: Visibility,
    change: {
      url?: string;
      eventTypes?: readonly string[];
      description?: string;
      enabled?: boolean;
      at: Date;
    },
  ): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRecord>(
      `UPDATE webhook_endpoints SET
         url = COALESCE($4::text, url),
         event_types = COALESCE($5::text[], event_types),
         description = COALESCE($6::text, description),
         enabled = COALESCE($7::boolean, enabled),
         disabled_reason = CASE WHEN $7::boolean IS NULL THEN disabled_reason WHEN $7::boolean THEN ''
           ELSE 'owner' END,
         failing_since = CASE WHEN $7::boolean THEN NULL ELSE failing_since END,
         updated_at = $8
       WHERE id = $1 AND ${visible(2, 3)}
       RETURNING ${ENDPOINT_COLUMNS}`,
      [
        id,
        who.userId,
        who.platformWide,
        change.url ?? null,
        change.eventTypes ?? null,
        change.description ?? null,
        change.enabled ?? null,
        change.at,
      ],
    );
    return rows[0] === undefined ? undefined : toEndpoint(rows[0]);
  },

  /** Removes an endpoint the caller sees (its deliveries go with it); false when there is none. */
  async deleteEndpoint(db: Queryable, id: string, who: Visibility): Promise<boolean> {
    const { rowCount } = await db.query(`DELETE FROM webhook_endpoints WHERE id = $1 AND ${visible(2, 3)}`, [
      id,
      who.userId,
      who.platformWide,
    ]);
    return rowCount === 1;
  },
};
