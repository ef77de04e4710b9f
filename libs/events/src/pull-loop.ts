import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumerInfo, ConsumerMessages, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** Options for {@link createPullLoop}. */
export interface PullLoopOptions {
  nc: NatsConnection;
  /** The stream's full name (namespace included). */
  stream: string;
  durable: string;
  /** The namespaced subject filter. */
  filterSubject: string;
  ackWaitMs: number;
  maxDeliver: number;
  /** The durable's limit on delivered, unacknowledged messages; undefined leaves the server's. */
  maxAckPending?: number;
  /** Messages pulled ahead of `onMessage`. */
  maxMessages: number;
  /** Durables on the same stream whose work this one took over: see CommonConsumerOptions.replaces. */
  replaces?: readonly string[];
  /**
   * When setting up the durable fails at start (typically: the stream's owner has not created it yet), start()
   * logs it and returns, and the loop keeps trying in the background; false: start() throws.
   */
  waitForStream: boolean;
  log: Logger;
  /** Called for each message in stream order; the next one waits for its promise. Must settle the message. */
  onMessage(msg: JsMsg): Promise<void>;
}

/** First pause before a consumer whose pull loop ended is opened again, in ms; doubles per failure. */
const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 15_000;

/**
 * The pull side of a durable JetStream consumer: creates or updates the durable, pulls its messages into
 * `onMessage`, and opens the pull again, durable included, whenever it ends while it is meant to run (the
 * consumer or its stream was deleted, a NATS restart the client could not ride out).
 */
export function createPullLoop(options: PullLoopOptions) {
  const { nc, stream, durable, filterSubject, ackWaitMs, maxDeliver, maxAckPending, log, onMessage } =
    options;
  const replaces = options.replaces ?? [];

  let messages: ConsumerMessages | undefined;
  let loop: Promise<void> | undefined;
  let stopped = true;
  let pause = new AbortController();

  async function ensureDurable(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    const config = {
      ack_wait: nanos(ackWaitMs),
      max_deliver: maxDeliver,
      ...(maxAckPending === undefined ? {} : { max_ack_pending: maxAckPending }),
      filter_subject: filterSubject,
    };
    if ((await infoOf(jsm, durable)) === undefined) {
      const after = await replacedAckFloor(jsm);
      await jsm.consumers.add(stream, {
        ...config,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ...(after === undefined
          ? { deliver_policy: DeliverPolicy.All }
          : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
      });
      if (after !== undefined)
        log.info({ replaces, startSeq: after + 1 }, "durable created after the ones it replaces");
    } else {
      await jsm.consumers.update(stream, durable, config);
    }
    for (const name of replaces) {
      const deleted = await jsm.consumers.delete(stream, name).catch((err: unknown) => {
        if (notFound(err)) return false;
        throw err;
      });
      if (deleted) log.info({ replaced: name }, "replaced durable deleted");
    }
  }

  async function infoOf(jsm: JetStreamManager, name: string): Promise<ConsumerInfo | undefined> {
    try {
      return await jsm.consumers.info(stream, name);
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * The last stream sequence every replaced durable still there has dealt with, with all before it, or undefined
   * when none is there (a new installation): a new durable starts after it, and what some of them acknowledged
   * beyond it finds their inbox rows. A durable's ack floor is the last message it acknowledged with all before
   * it, which for a filter that took nothing lately lies far back; one with nothing left to deliver or
   * acknowledge has dealt with everything the stream held before its info was read.
   */
  async function replacedAckFloor(jsm: JetStreamManager): Promise<number | undefined> {
    if (replaces.length === 0) return undefined;
    const last = (await jsm.streams.info(stream)).state.last_seq;
    let floor: number | undefined;
    for (const name of replaces) {
      const info = await infoOf(jsm, name);
      if (info === undefined) continue;
      const idle = info.num_pending === 0 && info.num_ack_pending === 0;
      const done = idle ? Math.max(last, info.ack_floor.stream_seq) : info.ack_floor.stream_seq;
      floor = Math.min(floor ?? Number.POSITIVE_INFINITY, done);
    }
    return floor;
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

  async function open(): Promise<ConsumerMessages> {
    const consumer = await jetstream(nc).consumers.get(stream, durable);
    return consumer.consume({ max_messages: options.maxMessages });
  }

  async function drain(iter: ConsumerMessages): Promise<void> {
    const status = watchStatus(iter).catch((err: unknown) => log.error({ err }, "consumer status failed"));
    for await (const msg of iter) {
      // onMessage settles every message itself; this only guards the loop against the unexpected.
      await onMessage(msg).catch((err: unknown) => log.error({ err, seq: msg.seq }, "event not settled"));
    }
    await status;
  }

  // A pull loop that ends while the consumer is meant to run is opened again, durable included, after a growing
  // pause; without this the service would stop consuming for good until someone restarted it.
  async function supervise(first: ConsumerMessages | undefined): Promise<void> {
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
    /** Sets up the durable and pulls in the background; see {@link PullLoopOptions.waitForStream}. */
    async start(): Promise<void> {
      if (!stopped) return;
      let iter: ConsumerMessages | undefined;
      try {
        await ensureDurable();
        iter = await open();
      } catch (err) {
        if (!options.waitForStream) throw err;
        log.warn(
          { reason: err instanceof Error ? err.message : String(err) },
          "cannot consume yet (does the stream exist?); retrying in the background",
        );
      }
      stopped = false;
      pause = new AbortController();
      messages = iter;
      loop = supervise(iter);
    },
    /** Stops pulling and returns when the last message pulled has been given to onMessage and settled. */
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      pause.abort();
      await messages?.close();
      messages = undefined;
      await loop;
    },
  };
}

const notFound = (err: unknown) => err instanceof Error && err.name === "ConsumerNotFoundError";
