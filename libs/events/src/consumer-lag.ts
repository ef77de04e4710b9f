import type { JetStreamManager, SeqMsgRequest } from "@nats-io/jetstream";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { EventsMetrics } from "./metrics.js";

/** A durable consumer whose lag the metrics report. */
export interface LagTarget {
  nc: NatsConnection;
  stream: string;
  durable: string;
  /** The consumer's filter subject, namespaced as the stream stores it. */
  filterSubject: string;
}

/** How long one scrape waits for JetStream before it leaves a consumer's series out, in ms. */
const TIMEOUT_MS = 2000;
/** Scrapes closer together than this share one look-up (three gauges ask at every scrape). */
const FRESH_MS = 1000;

interface Watch {
  targets: Map<string, LagTarget>;
  managers: WeakMap<NatsConnection, Promise<JetStreamManager>>;
  last?: { at: number; done: Promise<void> };
}

const watches = new WeakMap<EventsMetrics, Watch>();

/**
 * Reports a durable consumer's lag through `metrics` until the returned function is called: at every scrape, from
 * JetStream's consumer info, the messages not yet delivered, those delivered and not acknowledged, and the age of
 * the oldest not acknowledged (the first message of the filter past the ack floor). Every replica reports the same
 * durable's figures. A look-up that fails or times out leaves that consumer's series out of the scrape.
 */
export function watchConsumerLag(metrics: EventsMetrics, target: LagTarget): () => void {
  let watch = watches.get(metrics);
  if (watch === undefined) {
    const w: Watch = { targets: new Map(), managers: new WeakMap() };
    watches.set(metrics, w);
    metrics.beforeLagScrape = () => refresh(metrics, w);
    watch = w;
  }
  const key = `${target.stream}\u0000${target.durable}`;
  const targets = watch.targets;
  targets.set(key, target);
  return () => {
    if (targets.get(key) !== target) return;
    targets.delete(key);
    forget(metrics, target);
  };
}

function refresh(metrics: EventsMetrics, watch: Watch): Promise<void> {
  const now = Date.now();
  if (watch.last !== undefined && now - watch.last.at < FRESH_MS) return watch.last.done;
  const done = Promise.all([...watch.targets.values()].map((t) => report(metrics, watch, t))).then(() => {});
  watch.last = { at: now, done };
  return done;
}

async function report(metrics: EventsMetrics, watch: Watch, target: LagTarget): Promise<void> {
  const labels = { stream: target.stream, consumer: target.durable };
  try {
    let jsm = watch.managers.get(target.nc);
    if (jsm === undefined) {
      jsm = jetstreamManager(target.nc, { timeout: TIMEOUT_MS });
      watch.managers.set(target.nc, jsm);
    }
    const manager = await jsm;
    const info = await manager.consumers.info(target.stream, target.durable);
    let age = 0;
    if (info.num_pending + info.num_ack_pending > 0) {
      // The first message of the consumer's subjects past its ack floor: the oldest it has not acknowledged.
      const query: SeqMsgRequest & { next_by_subj: string } = {
        seq: info.ack_floor.stream_seq + 1,
        next_by_subj: target.filterSubject,
      };
      const oldest = await manager.streams.getMessage(target.stream, query);
      if (oldest !== null) age = Math.max(0, (Date.now() - oldest.time.getTime()) / 1000);
    }
    if (![...watch.targets.values()].includes(target)) return;
    metrics.consumerPending.set(labels, info.num_pending);
    metrics.consumerAckPending.set(labels, info.num_ack_pending);
    metrics.consumerOldestAge.set(labels, age);
  } catch {
    // NATS away, or the consumer not there yet: no figure beats a stale one. The manager is made again next time.
    watch.managers.delete(target.nc);
    forget(metrics, target);
  }
}

function forget(metrics: EventsMetrics, target: LagTarget): void {
  const labels = { stream: target.stream, consumer: target.durable };
  metrics.consumerPending.remove(labels);
  metrics.consumerAckPending.remove(labels);
  metrics.consumerOldestAge.remove(labels);
}
