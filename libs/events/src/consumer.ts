import { setTimeout as sleep } from "node:timers/promises";
import type { DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { IsolationLevel } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { childSpan, parseTraceparent, runInSpan, TRACEPARENT_HEADER } from "@fintech/platform";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/transport-node";
import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { CloudEventHeaders } from "./cloud-events.js";
import { eventsMetrics } from "./metrics.js";
import { namespacedSubject, streamName, stripNamespace } from "./namespace.js";

/** An event as a handler receives it. */
export interface ConsumedEvent<M extends Message = Message> {
  /** `ce-id`: the id given at enqueue, unique per event. */
  id: string;
  /** `ce-type`, un-namespaced, e.g. `"fx.rate.updated"`. */
  type: string;
  /** `ce-source`, e.g. `"fx"`. */
  source: string;
  /** `ce-time`: when the event was enqueued (its outbox row was written). */
  time: Date;
  /** The decoded payload. */
  message: M;
}

/** Handles one event type; `tx` is the open transaction that also records the event in the inbox. */
export interface EventHandler<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  // Method syntax on purpose: it lets a handler of one message type stand in a Record of handlers of any type.
  handle(event: ConsumedEvent<MessageShape<Desc>>, tx: PoolClient): Promise<void>;
}

/**
 * Builds an {@link EventHandler} with `event.message` typed from `schema`:
 * `{ "fx.rate.updated": eventHandler(RateUpdatedSchema, async (event, tx) => { ... }) }`.
 */
export function eventHandler<Desc extends DescMessage>(
  schema: Desc,
  handle: (event: ConsumedEvent<MessageShape<Desc>>, tx: PoolClient) => Promise<void>,
): EventHandler<Desc> {
  return { schema, handle };
}

export interface ConsumerOptions {
  /** Pool on the consuming service's schema, where its `inbox` table lives. */
  pool: Pool;
  nc: NatsConnection;
  /** Context whose stream is consumed, e.g. `"fx"` for stream `FX`. */
  context: string;
  /** Durable consumer name; also the inbox's `consumer` column. Unique per consuming service and purpose. */
  durable: string;
  /** One un-namespaced subject filter inside the stream, e.g. `"fx.rate.updated"` or `"fx.>"`. */
  filterSubject: string;
  /** `""` (the default) in production; must match the namespace given to `ensureStream` and the relay. */
  namespace?: string;
  /** Handlers by un-namespaced event type; messages of other types are acknowledged and ignored. */
  handlers: Record<string, EventHandler>;
  logger: Logger;
  /** Deliveries of one message before it is terminated; default 10. */
  maxDeliver?: number;
  /**
   * Redelivery delay in milliseconds after the n-th failed delivery is `backoffMs[n - 1]`, the last entry repeating;
   * default [1000, 5000, 30000].
   */
  backoffMs?: number[];
  /** Milliseconds the server waits for an ack before redelivering; default 30 000. Must exceed handler time. */
  ackWaitMs?: number;
  /** Messages pulled ahead of processing; default 10. Pulled messages' ack wait runs while they queue. */
  prefetch?: number;
  /**
   * Isolation level of the handler's transaction; default the server's (read committed). A serialization failure
   * re-runs the handler at once (see `withTransaction`), so handlers must have no effects outside `tx`.
   */
  isolation?: IsolationLevel;
  /** Registry for the consumer's metrics; default prom-client's global registry. */
  registry?: Registry;
}

/** First pause before a consumer whose pull loop ended is opened again, in ms; doubles per failure. */
const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 15_000;

export interface EventConsumer {
  /** Creates or updates the durable consumer, then consumes in the background. Throws if that set-up fails. */
  start(): Promise<void>;
  /** Stops pulling, finishes the messages already pulled, and returns when the last one is settled. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer with explicit ack and an inbox. Each message is handled in one transaction that first
 * inserts (durable, ce-id) into `inbox`; a redelivered event finds the row and is acknowledged without running
 * the handler again. The ack follows the commit, so a crash in between only causes such a harmless redelivery.
 * A failing handler rolls back and is retried after `backoffMs`; its last delivery (`maxDeliver`) is logged at
 * error level, counted (`events_consumed_total{outcome="terminated"}`) and terminated. Messages are handled one
 * at a time, in stream order.
 */
export function createConsumer(options: ConsumerOptions): EventConsumer {
  const {
    pool,
    nc,
    context,
    durable,
    filterSubject,
    namespace = "",
    handlers,
    logger,
    maxDeliver = 10,
    backoffMs = [1000, 5000, 30000],
    ackWaitMs = 30_000,
    prefetch = 10,
    isolation,
  } = options;
  const stream = streamName(context, namespace);
  const metrics = eventsMetrics(options.registry);
  const log = logger.child({ component: "event-consumer", stream, consumer: durable });

  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;

  function count(type: string, outcome: string): void {
    metrics.consumed.inc({ consumer: durable, type, outcome });
  }

  function terminate(msg: JsMsg, type: string): void {
    count(type, "terminated");
    // No reason argument: NATS 2.9 does not parse "+TERM <reason>" and leaves the message pending until ack wait.
    msg.term();
  }

  async function ensureDurable(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const config = {
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
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

  // Each event is handled as a span in the trace of the work that published it.
  function handle(msg: JsMsg): Promise<void> {
    return runInSpan(childSpan(parseTraceparent(msg.headers?.get(TRACEPARENT_HEADER))), () =>
      handleInSpan(msg),
    );
  }

  async function handleInSpan(msg: JsMsg): Promise<void> {
    const id = msg.headers?.get(CloudEventHeaders.id) ?? "";
    const type = msg.headers?.get(CloudEventHeaders.type) || stripNamespace(msg.subject, namespace);
    if (!id) {
      log.error({ subject: msg.subject, seq: msg.seq }, "event without ce-id terminated");
      terminate(msg, type);
      return;
    }
    const handler = handlers[type];
    if (!handler) {
      log.debug({ eventId: id, type }, "no handler for event type; acknowledged");
      count(type, "ignored");
      msg.ack();
      return;
    }
    let message: Message;
    try {
      message = fromBinary(handler.schema, msg.data);
    } catch (err) {
      // Redelivery cannot fix a payload that does not decode.
      log.error({ err, eventId: id, type }, "event payload does not decode; terminated");
      terminate(msg, type);
      return;
    }
    const ceTime = new Date(msg.headers?.get(CloudEventHeaders.time) ?? "");
    const event: ConsumedEvent = {
      id,
      type,
      source: msg.headers?.get(CloudEventHeaders.source) ?? "",
      // Without a valid ce-time, the time the stream stored the message is the closest truth.
      time: Number.isNaN(ceTime.getTime()) ? msg.time : ceTime,
      message,
    };

    let fresh: boolean;
    try {
      fresh = await withTransaction(
        pool,
        async (tx) => {
          const inserted = await tx.query(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [durable, id],
          );
          if (inserted.rowCount !== 1) return false;
          await handler.handle(event, tx);
          return true;
        },
        { isolation },
      );
    } catch (err) {
      const deliveries = msg.info.deliveryCount;
      if (deliveries >= maxDeliver) {
        log.error(
          { err, eventId: id, type, deliveries },
          "event handler failed on the last delivery; terminated",
        );
        terminate(msg, type);
      } else {
        const delay = backoffMs[Math.min(deliveries, backoffMs.length) - 1] ?? 0;
        log.warn(
          { err, eventId: id, type, deliveries, retryInMs: delay },
          "event handler failed; will retry",
        );
        count(type, "retried");
        msg.nak(delay);
      }
      return;
    }
    count(type, fresh ? "handled" : "duplicate");
    msg.ack();
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

  let stopped = true;
  let pause = new AbortController();

  async function open(): Promise<ConsumerMessages> {
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    return consumer.consume({ max_messages: prefetch });
  }

  async function drain(iter: ConsumerMessages): Promise<void> {
    const status = watchStatus(iter).catch((err: unknown) => log.error({ err }, "consumer status failed"));
    for await (const msg of iter) {
      // handle() settles every message itself; this only guards the loop against the unexpected.
      await handle(msg).catch((err: unknown) => log.error({ err, seq: msg.seq }, "event not settled"));
    }
    await status;
  }

  // A pull loop that ends while the consumer is meant to run (the consumer or its stream was lost, a server
  // restart the client could not ride out) is opened again, durable included, after a growing pause; without this
  // the service would stop consuming for good until someone restarted it.
  async function supervise(first: ConsumerMessages): Promise<void> {
    let iter: ConsumerMessages | undefined = first;
    let failures = 0;
    for (;;) {
      if (iter !== undefined) {
        messages = iter;
        try {
          await drain(iter);
        } catch (err) {
          if (!stopped) log.warn({ err }, "consumer pull loop failed");
        }
        iter = undefined;
      }
      if (stopped) return;
      const delay = Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.min(failures, 10));
      failures++;
      log.warn({ failures, retryInMs: delay }, "consumer stopped pulling; restarting");
      await sleep(delay, undefined, { signal: pause.signal }).catch(() => undefined);
      if (stopped) return;
      try {
        await ensureDurable();
        iter = await open();
        log.info("consumer restarted");
        failures = 0;
      } catch (err) {
        log.warn({ err }, "consumer restart failed; will retry");
      }
      if (stopped) await iter?.close();
    }
  }

  return {
    async start() {
      if (!stopped) return;
      await ensureDurable();
      const iter = await open();
      stopped = false;
      pause = new AbortController();
      messages = iter;
      loop = supervise(iter);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      pause.abort();
      await messages?.close();
      messages = undefined;
      await loop;
    },
  };
}
