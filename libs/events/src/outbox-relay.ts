import { tryAdvisoryXactLock, withTransaction } from "@fintech/db";
import type { Span } from "@fintech/platform";
import {
  endSpan,
  formatTraceparent,
  parseTraceparent,
  SpanKind,
  startSpan,
  TRACEPARENT_HEADER,
  tracing,
} from "@fintech/platform";
import type { NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import type { Pool } from "pg";
import pg from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { CloudEventHeaders, PROTOBUF_CONTENT_TYPE } from "./cloud-events.js";
import { OutboxPublishError } from "./errors.js";
import { eventsMetrics } from "./metrics.js";
import { namespacedSubject } from "./namespace.js";
import { wakeOnOutboxWrites } from "./outbox-wake.js";
import { createStreamPublisher } from "./stream-publisher.js";

export interface OutboxRelayOptions {
  /** Pool on the service's schema (search_path), where the `outbox` table lives. */
  pool: Pool;
  nc: NatsConnection;
  /** `ce-source` of every event, normally the service's context, e.g. `"fx"`. */
  source: string;
  /** `""` (the default) in production; must match the namespace given to `ensureStream`. */
  namespace?: string;
  logger: Logger;
  /** Rows claimed and published per transaction; default 500. */
  batchSize?: number;
  /**
   * Milliseconds between passes when no write in this process wakes it (outboxWritten), and between retries
   * after an error; default 1000.
   */
  pollIntervalMs?: number;
  /**
   * Milliseconds a relay woken by a commit (outboxWritten) waits for more commits before its pass; default 0, at
   * once. The pass then publishes what all of them wrote: one claim, one deletion and one round of publishes
   * instead of one each, for events published up to this much later (or right after the pass under way, when
   * that one ends later).
   */
  lingerMs?: number;
  /** Registry for the relay's metrics; default prom-client's global registry. */
  registry?: Registry;
}

/** What a service's serviceEnv variables set of its relay: EVENTS_NAMESPACE, OUTBOX_POLL_INTERVAL_MS, OUTBOX_LINGER_MS. */
export function relaySettings(config: {
  EVENTS_NAMESPACE: string;
  OUTBOX_POLL_INTERVAL_MS: number;
  OUTBOX_LINGER_MS: number;
}): Pick<OutboxRelayOptions, "namespace" | "pollIntervalMs" | "lingerMs"> {
  return {
    namespace: config.EVENTS_NAMESPACE,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    lingerMs: config.OUTBOX_LINGER_MS,
  };
}

export interface OutboxRelay {
  /**
   * Starts relaying in the background: at once, after every commit in this process that wrote outbox rows
   * through `pool` (outboxWritten; `lingerMs` after it), and every poll interval.
   */
  start(): void;
  /** Stops the background relay after the pass in progress, and the pass it was lingering for, if any. */
  stop(): Promise<void>;
  /**
   * Claims up to `batchSize` rows in outbox order, publishes them and deletes them, in one transaction. Safe to
   * run concurrently with other relays (rows are claimed with SKIP LOCKED).
   * @returns how many rows were published and deleted.
   * @throws OutboxPublishError when some rows could not be published (the others are deleted).
   */
  runOnce(): Promise<number>;
}

interface OutboxRow {
  id: string;
  subject: string;
  type: string;
  payload: Buffer;
  headers: Record<string, string> | null;
  created_at: Date;
}

const CLEANUP_EVERY_MS = 60_000;
const CLEANUP_BATCH = 10_000;
const CLEANUP_LOCK = "outbox.cleanup";
const BACKLOG_EVERY_MS = 1000;

/**
 * The statements a relay's pass opens its transaction with: up to `batchSize` unpublished rows, oldest first,
 * locked. (`published_at` is set only by the releases before this one, which marked rows instead of deleting
 * them.) A deleted row stays in the unpublished rows' index until a vacuum, and once such rows outnumber the rest
 * Postgres plans the claim as a bitmap scan, which fetches every one of them again on every pass; an index scan
 * (bitmap scans turned off for this transaction) marks them dead in the index as it passes them, so the next
 * passes skip them without reading the table.
 */
export function claimOpening(batchSize: number): string {
  return `SET LOCAL enable_bitmapscan = off; SELECT id, subject, type, payload, headers, created_at FROM outbox
    WHERE published_at IS NULL ORDER BY seq LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
}

/**
 * The publishing half of the transactional outbox. A row is deleted only after its PubAck, in the transaction
 * that claimed it; a crash between the two leaves it in place, and the next pass publishes it again with the same
 * `Nats-Msg-Id`, which JetStream drops as a duplicate within the stream's duplicate window. Deleting a published
 * row, rather than marking it and deleting it later, writes it once less: the marking was not a HOT update (the
 * backlog index's predicate names the column), so it copied the row and added it to two more indexes. Every
 * replica of a service runs a relay: rows are claimed with SKIP LOCKED in the transaction that publishes and
 * deletes them, so each is published by one relay, and a relay that stops or dies leaves its rows to the others.
 * Publish order follows `seq` within one pass; with several replicas, or after a failed publish, events can reach
 * the stream out of `seq` order. A commit that wrote rows wakes the relay of the process that wrote them
 * (outboxWritten); a relay hears of no other process's rows until its poll, since the NOTIFY that used to wake
 * every relay made each committing writer of the database wait for the others' commits (NOTIFY takes one lock,
 * held through the commit).
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const {
    pool,
    nc,
    source,
    namespace = "",
    logger,
    batchSize = 500,
    pollIntervalMs = 1000,
    lingerMs = 0,
  } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`outbox relay batchSize must be a positive integer, not ${batchSize}`);
  }
  const publisher = createStreamPublisher(nc);
  const metrics = eventsMetrics(options.registry);
  const log = logger.child({ component: "outbox-relay", source });

  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let lingering: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let wakeAgain = false;
  let failing = false;
  let lastCleanup = 0;
  let lastBacklog = 0;
  let unwake: (() => void) | undefined;

  function publish(row: OutboxRow): Promise<void> {
    const h = headers();
    for (const [key, value] of Object.entries(row.headers ?? {})) h.set(key, value);
    h.set(CloudEventHeaders.specVersion, "1.0");
    h.set(CloudEventHeaders.id, row.id);
    h.set(CloudEventHeaders.type, row.type);
    h.set(CloudEventHeaders.source, source);
    h.set(CloudEventHeaders.time, row.created_at.toISOString());
    h.set(CloudEventHeaders.contentType, PROTOBUF_CONTENT_TYPE);
    // JetStream drops a second message with the same id within the stream's duplicate window.
    h.set("Nats-Msg-Id", row.id);
    const subject = namespacedSubject(row.subject, namespace);
    const span = publishSpan(row, subject);
    if (span === undefined) return publisher.publish(subject, row.payload, h);
    // Consumers continue the publish span, which continues the work that wrote the row.
    h.set(TRACEPARENT_HEADER, formatTraceparent(span.spanContext()));
    return publisher.publish(subject, row.payload, h).then(
      () => endSpan(span),
      (err: unknown) => {
        endSpan(span, err);
        throw err;
      },
    );
  }

  // Only an event written inside a trace (an RPC, a handler) gets a span: one from a background job would start a
  // trace of its own for every event.
  function publishSpan(row: OutboxRow, subject: string): Span | undefined {
    if (!tracing()) return undefined;
    const parent = parseTraceparent(row.headers?.[TRACEPARENT_HEADER]);
    if (parent === undefined) return undefined;
    return startSpan(`publish ${row.type}`, {
      kind: SpanKind.PRODUCER,
      parent,
      attributes: {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.destination.name": subject,
        "messaging.message.id": row.id,
      },
    });
  }

  // A pass is two round trips to Postgres, not four: BEGIN goes in one message with the claim, COMMIT with the
  // deletion (withTransaction's opening and closing; their only values are the batch size, checked to be an
  // integer, and ids the claim read from a uuid column).
  const claim = claimOpening(batchSize);

  async function runOnce(): Promise<number> {
    const { ids, failures } = await withTransaction(
      pool,
      async (_tx, claimed) => {
        const rows = (claimed?.rows ?? []) as OutboxRow[];
        // Published concurrently so one pass costs one round trip to the stream, not one per row.
        const results = await Promise.allSettled(rows.map(publish));
        return {
          ids: rows.filter((_, i) => results[i]?.status === "fulfilled").map((row) => row.id),
          failures: results.flatMap((r) => (r.status === "rejected" ? [r.reason] : [])),
        };
      },
      {
        opening: claim,
        closing: ({ ids }) =>
          ids.length === 0
            ? undefined
            : `DELETE FROM outbox WHERE id = ANY(${pg.escapeLiteral(`{${ids.join(",")}}`)}::uuid[])`,
      },
    );
    const published = ids.length;
    metrics.outboxPublished.inc({ source }, published);
    if (failures.length > 0) {
      throw new OutboxPublishError(`${failures.length} outbox event(s) not published, will retry`, {
        cause: failures[0],
      });
    }
    return published;
  }

  /** Sets the backlog gauges; returns the rows waiting. */
  async function updateBacklog(): Promise<number> {
    lastBacklog = Date.now();
    const { rows } = await pool.query<{ n: number; age: number }>(
      `SELECT count(*)::int4 AS n, COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age
         FROM outbox WHERE published_at IS NULL`,
    );
    const waiting = Number(rows[0]?.n ?? 0);
    metrics.outboxBacklog.set({ source }, waiting);
    metrics.outboxBacklogAge.set({ source }, Math.max(0, Number(rows[0]?.age ?? 0)));
    return waiting;
  }

  // The rows a release before this one marked published and kept for a day, during and after a rolling upgrade.
  // One replica deletes at a time: two deletes of the same rows, locking them in different orders, could deadlock,
  // and the second would find nothing left to do anyway.
  async function cleanup(): Promise<void> {
    if (Date.now() - lastCleanup < CLEANUP_EVERY_MS) return;
    lastCleanup = Date.now();
    await withTransaction(pool, async (tx) => {
      if (!(await tryAdvisoryXactLock(tx, CLEANUP_LOCK))) return;
      await tx.query(
        `DELETE FROM outbox WHERE id IN (
           SELECT id FROM outbox WHERE published_at IS NOT NULL LIMIT $1)`,
        [CLEANUP_BATCH],
      );
    });
  }

  /** `polled`: woken by the poll interval, not by a commit here (which wrote rows for it). */
  async function pass(polled: boolean): Promise<void> {
    try {
      // A poll first asks how many rows wait (the backlog gauges' statement, which the pass would send anyway
      // once a second) and claims only if some do: an idle relay's poll is one round trip instead of three.
      if (!polled || (await updateBacklog()) > 0) {
        let n: number;
        do {
          n = await runOnce();
          // At most once a second, a relay that never catches up included: a relay woken at every commit would
          // otherwise add a statement to each.
          if (Date.now() - lastBacklog >= BACKLOG_EVERY_MS) await updateBacklog();
        } while (n === batchSize && !stopped);
      }
      await cleanup();
      if (failing) log.info("outbox relay recovered");
      failing = false;
    } catch (err) {
      metrics.outboxRelayErrors.inc({ source });
      // Logged at error level once per outage, not once per retry.
      if (failing) log.debug({ err }, "outbox relay pass failed again");
      else log.error({ err }, "outbox relay pass failed; retrying");
      failing = true;
      // While publishing fails the backlog grows, which is what the gauges are for; with the database away
      // they keep their last values.
      if (Date.now() - lastBacklog >= BACKLOG_EVERY_MS) await updateBacklog().catch(() => undefined);
    }
  }

  function wake(polled = false): void {
    if (stopped) return;
    if (inFlight !== undefined) {
      wakeAgain = true;
      return;
    }
    clearTimeout(timer);
    inFlight = pass(polled).finally(() => {
      inFlight = undefined;
      if (stopped) return;
      if (wakeAgain) {
        wakeAgain = false;
        wake();
      } else {
        timer = setTimeout(() => wake(true), pollIntervalMs);
      }
    });
  }

  /** A commit wrote rows: a pass now, or once `lingerMs` has passed, with whatever was committed meanwhile. */
  function committed(): void {
    if (lingerMs <= 0) {
      wake();
      return;
    }
    lingering ??= setTimeout(() => {
      lingering = undefined;
      wake();
    }, lingerMs);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      unwake = wakeOnOutboxWrites(pool, committed);
      wake();
    },
    async stop() {
      stopped = true;
      unwake?.();
      clearTimeout(timer);
      const waited = lingering !== undefined;
      clearTimeout(lingering);
      lingering = undefined;
      await inFlight;
      // What commits woke it for while it lingered goes now, not at the next start or another replica's poll.
      if (waited) await pass(false);
      publisher.close();
    },
    runOnce,
  };
}
