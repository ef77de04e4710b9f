import type { DescMessage, Message, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { IsolationLevel } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { markSpanFailed, SpanKind, withSpan } from "@fintech/platform";
import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Pool, PoolClient } from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { createBatchProcessor } from "./batch-processor.js";
import { watchConsumerLag } from "./consumer-lag.js";
import type { BatchHandler, ConsumedEvent } from "./consumer-model.js";
import { inboxOpening, recordedInInbox } from "./inbox.js";
import type { Envelope } from "./message-settler.js";
import { createMessageSettler } from "./message-settler.js";
import { eventsMetrics } from "./metrics.js";
import { namespacedSubject, streamName } from "./namespace.js";
import { createPullLoop } from "./pull-loop.js";

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

/** What a consumer takes in either mode. */
export interface CommonConsumerOptions {
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
  /**
   * Isolation level of the handler's transaction; default the server's (read committed). A serialization failure
   * re-runs the handler at once (see `withTransaction`), so handlers must have no effects outside `tx`.
   */
  isolation?: IsolationLevel;
  /**
   * When the stream does not exist yet at start (its owner has not created it; or any other failure to set up
   * the durable), start() logs it and returns, and the consumer keeps trying in the background. Default false:
   * start() throws.
   */
  waitForStream?: boolean;
  /** Registry for the consumer's metrics; default prom-client's global registry. */
  registry?: Registry | undefined;
  /**
   * Durables on the same stream whose work this consumer took over (their purposes' inbox rows, see
   * {@link combinedBatches}). Created, it starts after the last message every one of them still there had dealt
   * with, with all before it (at the stream's start when none is there), so nothing they left undone is skipped
   * and what they did beyond that finds its inbox rows; each start deletes those still there. Replicas of an
   * earlier release still running open theirs again and find their inbox rows; the next start deletes them.
   */
  replaces?: readonly string[];
}

export interface ConsumerOptions extends CommonConsumerOptions {
  /** Handlers by un-namespaced event type; messages of other types are acknowledged and ignored. */
  handlers: Record<string, EventHandler>;
  /** Messages pulled ahead of processing; default 10. Pulled messages' ack wait runs while they queue. */
  prefetch?: number;
}

export interface BatchConsumerOptions<M> extends CommonConsumerOptions {
  batch: BatchHandler<M>;
}

export interface EventConsumer {
  /**
   * Creates or updates the durable consumer, then consumes in the background. Throws if that set-up fails,
   * unless `waitForStream`.
   */
  start(): Promise<void>;
  /** Stops pulling, finishes the messages already pulled, and returns when the last one is settled. */
  stop(): Promise<void>;
}

/**
 * A durable pull consumer with explicit ack and an inbox.
 *
 * With `handlers`, each message is handled in one transaction that first inserts (durable, ce-id) into `inbox`;
 * a redelivered event finds the row and is acknowledged without running the handler again. The ack follows the
 * commit, so a crash in between only causes such a harmless redelivery. A failing handler rolls back and is
 * retried after `backoffMs`; its last delivery (`maxDeliver`) is logged at error level, counted
 * (`events_consumed_total{outcome="terminated"}`) and terminated. Messages are handled one at a time, in stream
 * order, each as a span in the trace of the work that published it.
 *
 * With `batch`, messages are decoded as they arrive and handed to the handler in batches of up to `size` events
 * (whatever has arrived, or what arrives within its `lingerMs`), in one transaction per batch that inserts an
 * inbox row per event and passes on only the new ones; the batch's messages are acknowledged together after the
 * commit (and the handler's after-commit work). A failed batch is handled again message by message at once, so one bad
 * event holds back no other, and only the messages that fail alone are retried after `backoffMs` or terminated.
 * See {@link BatchHandler} for the spans.
 */
export function createConsumer(options: ConsumerOptions): EventConsumer;
export function createConsumer<M>(options: BatchConsumerOptions<M>): EventConsumer;
export function createConsumer<M>(options: ConsumerOptions | BatchConsumerOptions<M>): EventConsumer {
  const {
    pool,
    nc,
    context,
    durable,
    filterSubject,
    namespace = "",
    logger,
    maxDeliver = 10,
    backoffMs = [1000, 5000, 30000],
    ackWaitMs = 30_000,
    isolation,
  } = options;
  const stream = streamName(context, namespace);
  const log = logger.child({ component: "event-consumer", stream, consumer: durable });
  const metrics = eventsMetrics(options.registry);
  const settler = createMessageSettler({ durable, namespace, maxDeliver, backoffMs, metrics, log });
  const pull = {
    nc,
    stream,
    durable,
    filterSubject: namespacedSubject(filterSubject, namespace),
    ackWaitMs,
    maxDeliver,
    waitForStream: options.waitForStream ?? false,
    ...(options.replaces === undefined ? {} : { replaces: options.replaces }),
    log,
  };

  if ("batch" in options) {
    const size = options.batch.size ?? 500;
    const concurrency = options.batch.concurrency ?? 1;
    const maxAckPending = options.batch.maxAckPending ?? 4 * size * concurrency;
    const batches = createBatchProcessor({
      pool,
      durable,
      isolation,
      handler: options.batch,
      size,
      concurrency,
      lingerMs: options.batch.lingerMs ?? 0,
      settler,
      log,
    });
    const loop = createPullLoop({
      ...pull,
      maxAckPending,
      maxMessages: Math.min(size * 2, maxAckPending),
      onMessage: async (msg) => batches.arrive(msg),
    });
    return reportingLag({
      async start() {
        await loop.start();
        batches.start();
      },
      async stop() {
        await loop.stop();
        await batches.stop();
      },
    });
  }

  const { handlers } = options;

  async function handle(msg: JsMsg, envelope: Envelope): Promise<void> {
    const { id, type } = envelope;
    if (!id) {
      log.error({ subject: msg.subject, seq: msg.seq }, "event without ce-id terminated");
      settler.terminate(msg, type);
      return;
    }
    const handler = handlers[type];
    if (!handler) {
      log.debug({ eventId: id, type }, "no handler for event type; acknowledged");
      settler.ack(msg, type, "ignored");
      return;
    }
    let message: Message;
    try {
      message = fromBinary(handler.schema, msg.data);
    } catch (err) {
      // Redelivery cannot fix a payload that does not decode.
      log.error({ err, eventId: id, type }, "event payload does not decode; terminated");
      settler.terminate(msg, type);
      return;
    }
    const event: ConsumedEvent = { ...envelope, message };

    const entry = [{ consumer: durable, eventId: id }];
    let fresh: boolean;
    try {
      fresh = await withTransaction(
        pool,
        async (tx, opened) => {
          if ((await recordedInInbox(tx, entry, opened)).size === 0) return false;
          await handler.handle(event, tx);
          return true;
        },
        { isolation, opening: inboxOpening(entry) },
      );
    } catch (err) {
      markSpanFailed(err);
      settler.failed(msg, envelope, err);
      return;
    }
    settler.ack(msg, type, fresh ? "handled" : "duplicate");
  }

  const loop = createPullLoop({
    ...pull,
    maxMessages: options.prefetch ?? 10,
    // Each event is handled as a span (CONSUMER, when exported) in the trace of the work that published it.
    onMessage: (msg) => {
      const envelope = settler.envelope(msg);
      return withSpan(
        `process ${envelope.type}`,
        {
          kind: SpanKind.CONSUMER,
          parent: envelope.trace,
          attributes: {
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.destination.name": msg.subject,
            "messaging.consumer.group.name": durable,
          },
        },
        () => handle(msg, envelope),
      );
    },
  });
  return reportingLag({ start: loop.start, stop: loop.stop });

  // While it runs, the durable's lag is in the metrics (consumer-lag.ts), whichever mode consumes it.
  function reportingLag(consumer: EventConsumer): EventConsumer {
    let unwatch: (() => void) | undefined;
    return {
      async start() {
        await consumer.start();
        unwatch ??= watchConsumerLag(metrics, { nc, stream, durable, filterSubject: pull.filterSubject });
      },
      async stop() {
        unwatch?.();
        unwatch = undefined;
        await consumer.stop();
      },
    };
  }
}
