import type { BatchPurpose, EventConsumer } from "@fintech/events";
import { combinedBatches, createConsumer } from "@fintech/events";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";

/** One of this service's purposes and the stream it reads: webhooks, mails or the audit chain. */
export interface StreamPurpose extends BatchPurpose {
  /** Context whose stream it reads, e.g. `"wallet"`. */
  context: string;
}

/**
 * One durable consumer per stream for every purpose that reads it, so that a purchase's events are delivered
 * to this service once each, not once per purpose (webhooks, mails and the audit chain all read the wallet's).
 * A stream read for one purpose keeps that purpose's durable; one read for several is consumed by
 * `notifications-<context>`, which took over from the purposes' own durables (libs/events' `replaces`: it
 * started where they had all got to, and its starts delete them) and keeps each purpose's inbox rows under the
 * purpose's name. A batch holds all of a stream's purposes, so one purpose's failure retries the others' too.
 */
export function createStreamConsumers(
  deps: {
    pool: pg.Pool;
    nc: NatsConnection;
    namespace: string;
    logger: Logger;
    /** How long a batch waits for more events (libs/events' lingerMs). */
    lingerMs: number;
  },
  purposes: readonly StreamPurpose[],
): EventConsumer[] {
  const { lingerMs, ...common } = deps;
  const byStream = Map.groupBy(purposes, (p) => p.context);
  return [...byStream].map(([context, [only, ...others]]) => {
    if (only === undefined) throw new Error(`no purpose reads ${context}`);
    if (others.length === 0) {
      return createConsumer({
        ...common,
        context,
        durable: only.inbox,
        filterSubject: only.subject,
        waitForStream: true,
        batch: { ...only.handler, lingerMs },
      });
    }
    const all = [only, ...others];
    const subjects = new Set(all.map((p) => p.subject));
    return createConsumer({
      ...common,
      context,
      durable: `notifications-${context}`,
      filterSubject: subjects.size === 1 ? only.subject : `${context}.>`,
      waitForStream: true,
      replaces: all.map((p) => p.inbox),
      batch: combinedBatches(all, {
        log: deps.logger,
        size: all.reduce((sum, p) => sum + (p.handler.size ?? 500), 0),
        lingerMs,
      }),
    });
  });
}
