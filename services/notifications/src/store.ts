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

  /**
   * A new sealed secret for an endpoint the caller sees; the current one becomes the previous one, signing
   * until `previousExpiresAt`. Undefined when the caller sees no such endpoint.
   */
  async rotateSecret(
    db: Queryable,
    id: string,
    who: Visibility,
    r: { secret: Buffer; previousExpiresAt: Date; at: Date },
  ): Promise<EndpointRow | undefined> {
    const { rows } = await db.query<EndpointRecord>(
      `UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_expires_at = $5, secret = $4,
         updated_at = $6
       WHERE id = $1 AND ${visible(2, 3)}
       RETURNING ${ENDPOINT_COLUMNS}`,
      [id, who.userId, who.platformWide, r.secret, r.previousExpiresAt, r.at],
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

/** A delivery as the worker claimed it: what to send where. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  attempt: number;
  createdAt: Date;
  body: string;
}

/** A delivery as its endpoint's owner sees it. */
export interface DeliveryRow {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  nextAttemptAt: Date | undefined;
  lastResponseCode: number | undefined;
  lastError: string;
  createdAt: Date;
  completedAt: Date | undefined;
}

/** One attempt of a delivery. */
export interface AttemptRow {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  responseCode: number | undefined;
  error: string;
}

interface DeliveryRecord {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryRow["status"];
  attempts: number;
  next_attempt_at: Date;
  last_response_code: number | null;
  last_error: string;
  created_at: Date;
  completed_at: Date | null;
}

const toDelivery = (r: DeliveryRecord): DeliveryRow => ({
  id: r.id,
  endpointId: r.endpoint_id,
  eventId: r.event_id,
  eventType: r.event_type,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === "pending" ? r.next_attempt_at : undefined,
  lastResponseCode: r.last_response_code ?? undefined,
  lastError: r.last_error,
  createdAt: r.created_at,
  completedAt: r.completed_at ?? undefined,
});

const DELIVERY_COLUMNS = `d.id, d.endpoint_id, d.event_id, ev.type AS event_type, d.status, d.attempts,
  d.next_attempt_at, d.last_response_code, d.last_error, d.created_at, d.completed_at`;

export const deliveryStore = {
  /**
   * Keeps a batch of events (each once: an id kept before, or given twice, changes nothing) and queues one
   * delivery of each new one to every enabled endpoint that takes its type and is its user's or platform-wide,
   * due `at`, in one statement. An endpoint's deliveries are queued in the order of the batch, which `seq`
   * keeps for the claims. Returns how many deliveries were queued.
   */
  async recordEvents(
    db: Queryable,
    events: ReadonlyArray<{
      id: string;
      type: string;
      userId: string | undefined;
      body: string;
      occurredAt: Date;
    }>,
    at: Date,
  ): Promise<number> {
    // An id given twice is kept the first time; the second would queue its deliveries twice in this statement.
    const byId = new Map<string, (typeof events)[number]>();
    for (const e of events) if (!byId.has(e.id)) byId.set(e.id, e);
    const batch = [...byId.values()];
    if (batch.length === 0) return 0;
    const { rowCount } = await db.query(
      `WITH batch AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::timestamptz[])
           WITH ORDINALITY AS b (id, type, user_id, body, created_at, ord)
       ), kept AS (
         INSERT INTO webhook_events (id, type, user_id, body, created_at)
         SELECT id, type, user_id, body, created_at FROM batch
         ON CONFLICT (id) DO NOTHING
         RETURNING id
       )
       INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at)
       SELECT gen_random_uuid(), w.id, b.id, 'pending', $6, $6
       FROM kept JOIN batch b ON b.id = kept.id
         JOIN webhook_endpoints w ON w.enabled AND b.type = ANY (w.event_types)
           AND (w.user_id = b.user_id OR w.user_id IS NULL)
       ORDER BY b.ord, w.id`,
      [
        batch.map((e) => e.id),
        batch.map((e) => e.type),
        batch.map((e) => e.userId ?? null),
        batch.map((e) => e.body),
        batch.map((e) => e.occurredAt),
        at,
      ],
    );
    return rowCount ?? 0;
  },

  /** Endpoints (enabled) with deliveries due at `now`, the longest waiting first. */
  async dueEndpoints(db: Queryable, now: Date, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ endpoint_id: string }>(
      `SELECT d.endpoint_id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.enabled
       GROUP BY d.endpoint_id ORDER BY min(d.next_attempt_at) LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.endpoint_id);
  },

  /**
   * Claims up to `take` due deliveries of one endpoint, the earliest due first and those due together in the
   * order they were queued, leaving at most `bound` of its deliveries in flight across every replica: the endpoint's row is locked for the statement (another replica claiming for it at the
   * same time skips it), and a claimed delivery is in flight until `leaseUntil`, when it is due again should its
   * worker have died.
   */
  async claim(
    db: Queryable,
    endpointId: string,
    opts: { take: number; bound: number; now: Date; leaseUntil: Date },
  ): Promise<ClaimedDelivery[]> {
    const { rows } = await db.query<{
      id: string;
      endpoint_id: string;
      event_id: string;
      attempts: number;
      created_at: Date;
      body: string;
    }>(
      `WITH endpoint AS (
         SELECT id FROM webhook_endpoints WHERE id = $1 AND enabled FOR UPDATE SKIP LOCKED
       ), in_flight AS (
         SELECT count(*)::int AS n FROM webhook_deliveries
         WHERE endpoint_id = $1 AND status = 'pending' AND leased_until > $4
       ), due AS (
         SELECT d.id FROM webhook_deliveries d JOIN endpoint ON endpoint.id = d.endpoint_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= $4
         ORDER BY d.next_attempt_at, d.seq NULLS FIRST
         LIMIT LEAST($2::int, GREATEST(0, $3::int - (SELECT n FROM in_flight)))
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = $5, leased_until = $5
       FROM due, webhook_events ev
       WHERE d.id = due.id AND ev.id = d.event_id
       RETURNING d.id, d.endpoint_id, d.event_id, d.attempts, d.created_at, ev.body`,
      [endpointId, opts.take, opts.bound, opts.now, opts.leaseUntil],
    );
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      eventId: r.event_id,
      attempt: r.attempts,
      createdAt: r.created_at,
      body: r.body,
    }));
  },

  /** Records one attempt's outcome. */
  async insertAttempt(
    db: Queryable,
    a: {
      deliveryId: string;
      attempt: number;
      startedAt: Date;
      durationMs: number;
      code?: number;
      error: string;
    },
  ): Promise<void> {
    await db.query(
      `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, response_code, error)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [a.deliveryId, a.attempt, a.startedAt, a.durationMs, a.code ?? null, a.error],
    );
  },

  /**
   * Ends or reschedules a delivery after its attempt `attempt`: `next` undefined ends it as `status`, else it
   * waits until `next`. Nothing changes when another attempt has started since (its lease ran out).
   */
  async settle(
    db: Queryable,
    d: {
      id: string;
      attempt: number;
      status: "pending" | "succeeded" | "failed";
      next: Date | undefined;
      code: number | undefined;
      error: string;
      at: Date;
    },
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE webhook_deliveries SET status = $3, next_attempt_at = COALESCE($4, next_attempt_at),
         leased_until = NULL, last_response_code = $5, last_error = $6,
         completed_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END
       WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      [d.id, d.attempt, d.status, d.next ?? null, d.code ?? null, d.error, d.at],
    );
    return rowCount === 1;
  },

  /** An endpoint answered: its failing streak ends. */
  async endpointSucceeded(db: Queryable, endpointId: string): Promise<void> {
    await db.query(
      "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
      [endpointId],
    );
  },

  /**
   * A delivery to an endpoint failed, its attempt having started at `startedAt`: the endpoint's failing streak
   * starts then unless one is running. When the delivery fails for good (`givingUp`: retried for the whole retry
   * period) and the endpoint has had no success since that delivery's first attempt, the endpoint is disabled
   * (reason "failing"); it is returned when this call disabled it.
   */
  async endpointFailed(
    db: Queryable,
    f: { endpointId: string; deliveryId: string; startedAt: Date; givingUp: boolean; at: Date },
  ): Promise<{ userId: string | undefined; url: string; failingSince: Date } | undefined> {
    await db.query("UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1", [
      f.endpointId,
      f.startedAt,
    ]);
    if (!f.givingUp) return undefined;
    const { rows } = await db.query<{ user_id: string | null; url: string; failing_since: Date }>(
      `UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'failing', updated_at = $3
       WHERE id = $1 AND enabled
         AND failing_since <= (SELECT min(started_at) FROM webhook_attempts WHERE delivery_id = $2)
       RETURNING user_id, url, failing_since`,
      [f.endpointId, f.deliveryId, f.at],
    );
    const r = rows[0];
    return r === undefined
      ? undefined
      : { userId: r.user_id ?? undefined, url: r.url, failingSince: r.failing_since };
  },

  /** An endpoint's deliveries, newest first, after `after`. */
  async listDeliveries(
    db: Queryable,
    endpointId: string,
    opts: { limit: number; after?: { createdAt: Date; id: string } | undefined },
  ): Promise<DeliveryRow[]> {
    const { rows } = await db.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
       WHERE d.endpoint_id = $1 AND ($2::timestamptz IS NULL OR (d.created_at, d.id) < ($2, $3::uuid))
       ORDER BY d.created_at DESC, d.id DESC LIMIT $4`,
      [endpointId, opts.after?.createdAt ?? null, opts.after?.id ?? null, opts.limit],
    );
    return rows.map(toDelivery);
  },

  async delivery(db: Queryable, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
    const { rows } = await db.query<DeliveryRecord>(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
       WHERE d.endpoint_id = $1 AND d.id = $2`,
      [endpointId, id],
    );
    return rows[0] === undefined ? undefined : toDelivery(rows[0]);
  },

  /** A delivery's attempts, first first. */
  async attempts(db: Queryable, deliveryId: string): Promise<AttemptRow[]> {
    const { rows } = await db.query<{
      attempt: number;
      started_at: Date;
      duration_ms: number;
      response_code: number | null;
      error: string;
    }>(
      `SELECT attempt, started_at, duration_ms, response_code, error FROM webhook_attempts
       WHERE delivery_id = $1 ORDER BY attempt`,
      [deliveryId],
    );
    return rows.map((r) => ({
      attempt: r.attempt,
      startedAt: r.started_at,
      durationMs: r.duration_ms,
      responseCode: r.response_code ?? undefined,
      error: r.error,
    }));
  },

  /** A new delivery of a delivery's event to the same endpoint, due `at`; undefined when there is no such one. */
  async resend(
    db: Queryable,
    endpointId: string,
    deliveryId: string,
    at: Date,
  ): Promise<DeliveryRow | undefined> {
    const { rows } = await db.query<DeliveryRecord>(
      `WITH made AS (
         INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at)
         SELECT gen_random_uuid(), endpoint_id, event_id, 'pending', $3, $3 FROM webhook_deliveries
         WHERE endpoint_id = $1 AND id = $2
         RETURNING *
       )
       SELECT ${DELIVERY_COLUMNS} FROM made d JOIN webhook_events ev ON ev.id = d.event_id`,
      [endpointId, deliveryId, at],
    );
    return rows[0] === undefined ? undefined : toDelivery(rows[0]);
  },

  /**
   * Queues again, due `at`, every kept event since `since` that the endpoint takes: its types, its owner's (or
   * every user's for a platform-wide one). Returns how many.
   */
  async replay(db: Queryable, endpointId: string, since: Date, at: Date): Promise<number> {
    const { rowCount } = await db.query(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, status, next_attempt_at, created_at)
       SELECT gen_random_uuid(), w.id, ev.id, 'pending', $3, $3
       FROM webhook_endpoints w JOIN webhook_events ev
         ON ev.type = ANY (w.event_types) AND (ev.user_id = w.user_id OR w.user_id IS NULL)
       WHERE w.id = $1 AND ev.created_at >= $2`,
      [endpointId, since, at],
    );
    return rowCount ?? 0;
  },
};
