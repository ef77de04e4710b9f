import { CloudEventHeaders, namespacedSubject, streamName, stripNamespace } from "@fintech/events";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";

/**
 * What to do with one message: count its events (a message may carry several), acknowledge it unread, or
 * terminate it (it can never be counted).
 */
export type Decoded<E> = { events: E[] } | { ignore: true } | { poison: string };

/** A message waiting to be handled, with its decoded events. */
interface Queued<E> {
  msg: JsMsg;
  events: E[];
}

/** Options for {@link createBatchConsumer}. */
export interface BatchConsumerOptions<E> {
  nc: NatsConnection;
  /** Context whose stream is consumed, e.g. "wallet" for stream WALLET. */
  context: string;
  /** Durable consumer name; also the inbox's consumer column. */
  durable: string;
  /** One un-namespaced subject filter, e.g. "wallet.transaction.>". */
  filterSubject: string;
  namespace?: string;
  logger: Logger;
  /** Turns a message (its un-namespaced type and ce-id) into an event. */
  decode(msg: JsMsg, type: string, id: string): Decoded<E>;
  /** Handles a batch; throws to have every message of it retried. */
  handle(events: E[]): Promise<void>;
  /** Most events handled together (whole messages are never split); default 500. */
  batchSize?: number;
  /**
   * Batches handled at the same time; default 2, so one batch's Postgres work overlaps another's Redis work.
   * Handlers must allow it (the aggregator does: its effects commute).
   */
  concurrency?: number;
  /** Messages delivered and not yet acknowledged at most (the pull-ahead); default 4 x batchSize x concurrency. */
  maxAckPending?: number;
  /** Deliveries of one message before it is terminated; default 10. */
  maxDeliver?: number;
  /** Redelivery delays after the n-th failure, the last repeating; default [1000, 5000, 30000] ms. */
  backoffMs?: number[];
  /** How long the server waits for an ack before redelivering, ms; default 30 000. */
  ackWaitMs?: number;
  /** Pause between attempts to set up the durable while its stream does not exist yet, ms; default 5000. */
  retryMs?: number;
}

export interface BatchConsumer {
  /** Sets up the durable and consumes in the background; a missing stream is retried in the background. */
  start(): Promise<void>;
  /** Stops pulling, handles what was already pulled, and returns when it is settled. */
  stop(): Promise<void>;
}

/**
 * A durable JetStream pull consumer that hands events to `handle` in batches of up to `batchSize` (whatever
 * has arrived, without waiting to fill a batch), up to `concurrency` batches at a time, acknowledging each
 * batch's messages after it is handled. A failed batch is
 * retried message by message so one bad event cannot hold back the others; a message failing on its last
 * delivery is logged and terminated. Counting once is the handler's job (the inbox): redelivery is harmless.
 */
export function createBatchConsumer<E>(opts: BatchConsumerOptions<E>): BatchConsumer {
  const { nc, context, durable, filterSubject, namespace = "", decode, handle } = opts;
  const batchSize = opts.batchSize ?? 500;
  const concurrency = opts.concurrency ?? 2;
  const maxAckPending = opts.maxAckPending ?? batchSize * 4 * concurrency;
  const maxDeliver = opts.maxDeliver ?? 10;
  const backoffMs = opts.backoffMs ?? [1000, 5000, 30000];
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const retryMs = opts.retryMs ?? 5000;
  const stream = streamName(context, namespace);
  const log = opts.logger.child({ component: "batch-consumer", stream, consumer: durable });

  const buffer: Queued<E>[] = [];
  let waiting: Array<() => void> = [];
  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;

  function signal(): void {
    const woken = waiting;
    waiting = [];
    for (const w of woken) w();
  }

  async function ensureDurable(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const config = {
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      max_ack_pending: maxAckPending,
      filter_subject: namespacedSubject(filterSubject, namespace),
    };
    try {
      await jsm.consumers.info(stream, durable);
    } catch (err) {
      if (!(err instanceof Error && err.name === "ConsumerNotFoundError")) throw err;
      await jsm.consumers.add(stream, {
        ...config,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      return;
    }
    await jsm.consumers.update(stream, durable, config);
  }

  function settleFailed(msg: JsMsg, err: unknown): void {
    const deliveries = msg.info.deliveryCount;
    if (deliveries >= maxDeliver) {
      log.error({ err, seq: msg.seq, deliveries }, "event failed on its last delivery; terminated");
      msg.term();
      return;
    }
    const delay = backoffMs[Math.min(deliveries, backoffMs.length) - 1] ?? 0;
    log.warn({ err, seq: msg.seq, deliveries, retryInMs: delay }, "event failed; will retry");
    msg.nak(delay);
  }

  /** Decodes a message on arrival: settles it at once when there is nothing to count, else queues its events. */
  function arrive(msg: JsMsg): void {
    const id = msg.headers?.get(CloudEventHeaders.id) ?? "";
    const type = msg.headers?.get(CloudEventHeaders.type) || stripNamespace(msg.subject, namespace);
    if (id === "") {
      log.error({ subject: msg.subject, seq: msg.seq }, "event without ce-id terminated");
      msg.term();
      return;
    }
    let decoded: Decoded<E>;
    try {
      decoded = decode(msg, type, id);
    } catch (err) {
      decoded = { poison: err instanceof Error ? err.message : String(err) };
    }
    if ("ignore" in decoded) {
      msg.ack();
    } else if ("poison" in decoded) {
      // Redelivery cannot fix an event that does not decode or cannot be counted.
      log.error({ eventId: id, type, reason: decoded.poison }, "event cannot be counted; terminated");
      msg.term();
    } else if (decoded.events.length === 0) {
      msg.ack();
    } else {
      buffer.push({ msg, events: decoded.events });
      signal();
    }
  }

  async function process(batch: Queued<E>[]): Promise<void> {
    const events = batch.flatMap((q) => q.events);
    try {
      await handle(events);
      for (const q of batch) q.msg.ack();
      return;
    } catch (err) {
      if (batch.length === 1) {
        settleFailed((batch[0] as Queued<E>).msg, err);
        return;
      }
      log.warn({ err, size: events.length }, "batch failed; retrying its messages one by one");
    }
    for (const q of batch) {
      try {
        await handle(q.events);
        q.msg.ack();
      } catch (err) {
        settleFailed(q.msg, err);
      }
    }
  }

  /** Takes whole messages off the queue until they hold batchSize events (at least one message). */
  function take(): Queued<E>[] {
    let n = 0;
    let count = 0;
    while (n < buffer.length && (n === 0 || count + (buffer[n]?.events.length ?? 0) <= batchSize)) {
      count += buffer[n]?.events.length ?? 0;
      n++;
    }
    return buffer.splice(0, n);
  }

  async function run(): Promise<void> {
    for (;;) {
      if (buffer.length === 0) {
        if (messages === undefined) return;
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
        });
        continue;
      }
      await process(take()).catch((err: unknown) => log.error({ err }, "batch not settled"));
    }
  }

  async function watchStatus(iter: ConsumerMessages): Promise<void> {
    for await (const s of iter.status()) {
      if (s.type === "consumer_deleted" || s.type === "consumer_not_found" || s.type === "stream_not_found") {
        // The client would keep pulling from a durable that is gone, forever: end this pull so that it is opened
        // again, durable included.
        log.error({ status: s }, "consumer lost; opening it again");
        await iter.close();
      } else if (s.type === "heartbeats_missed") {
        log.warn({ status: s }, "consumer heartbeats missed");
      }
    }
  }

  async function begin(): Promise<void> {
    await ensureDurable();
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    const iter = await consumer.consume({
      max_messages: Math.min(batchSize * 2, maxAckPending),
      callback: arrive,
    });
    if (stopped) {
      await iter.close();
      return;
    }
    messages = iter;
    watchStatus(iter).catch((err: unknown) => log.error({ err }, "consumer status failed"));
    // A pull that ends while the consumer is meant to run (consumer or stream lost, a server restart the client
    // could not ride out) is opened again; without this analytics would stop counting until restarted.
    iter.closed().then(
      (err) => {
        if (stopped || messages !== iter) return;
        log.warn({ err, retryInMs: retryMs }, "consumer stopped pulling; restarting");
        beginWhenStreamExists().catch((e: unknown) => log.error({ err: e }, "consumer restart failed"));
      },
      (err: unknown) => log.error({ err }, "consumer closed() failed"),
    );
    loop ??= Promise.all(Array.from({ length: concurrency }, run)).then(() => undefined);
  }

  async function beginWhenStreamExists(): Promise<void> {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      if (stopped) return;
      try {
        await begin();
        log.info("consuming");
        return;
      } catch (err) {
        log.debug({ err }, "still cannot consume; retrying");
      }
    }
  }

  return {
    async start() {
      if (starting !== undefined) return starting;
      stopped = false;
      starting = begin().catch((err: unknown) => {
        // Typically the stream's owner (wallet, fraud) has not created it yet: wait for it without failing.
        log.warn(
          { reason: err instanceof Error ? err.message : String(err), retryInMs: retryMs },
          "cannot consume yet (does the stream exist?); retrying in the background",
        );
        beginWhenStreamExists().catch((e: unknown) => log.error({ err: e }, "consumer start failed"));
      });
      return starting;
    },
    async stop() {
      stopped = true;
      await starting;
      const iter = messages;
      messages = undefined;
      starting = undefined;
      if (iter !== undefined) await iter.close();
      signal();
      await loop;
      loop = undefined;
    },
  };
}
