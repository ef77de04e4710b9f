import type { IsolationLevel } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { childSpan, formatTraceparent, runInSpan } from "@fintech/platform";
import type { JsMsg } from "@nats-io/jetstream";
import type { Pool } from "pg";
import type { Logger } from "pino";
import type { BatchHandler, ConsumedEvent, Decoded, TraceContext } from "./consumer-model.js";
import type { InboxEntry } from "./inbox.js";
import { inboxKey, inboxOpening, recordedInInbox } from "./inbox.js";
import type { Envelope, MessageSettler } from "./message-settler.js";

/** A decoded event and its inbox row. */
interface Pending<M> {
  event: ConsumedEvent<M>;
  entry: InboxEntry;
}

/** A message waiting to be handled, with its decoded events. */
interface Queued<M> {
  msg: JsMsg;
  envelope: Envelope;
  events: Pending<M>[];
  /** performance.now() when it was queued. */
  queuedAt: number;
}

/** Options for {@link createBatchProcessor}. */
export interface BatchProcessorOptions<M> {
  pool: Pool;
  durable: string;
  isolation: IsolationLevel | undefined;
  handler: BatchHandler<M>;
  size: number;
  concurrency: number;
  /** See BatchHandler.lingerMs. */
  lingerMs: number;
  settler: MessageSettler;
  log: Logger;
}

/**
 * The span a batch is handled in, and the spans it links to. A batch is one transaction over events that may
 * come from many traces, and it belongs to none of them alone: a child span in any one trace would put the
 * other events' work in a request it had nothing to do with. So a batch whose events all come from one trace
 * (one event, or an import's rows) continues that trace; any other batch starts a trace of its own that links
 * to the span of every event in it. Work done for one event alone (decoding it, settling it, handling it again
 * after its batch failed) runs in a span of that event's own trace instead.
 */
export function batchSpan(traces: Array<TraceContext | undefined>): {
  span: TraceContext;
  links: TraceContext[];
} {
  const links = new Map<string, TraceContext>();
  let untraced = false;
  for (const trace of traces) {
    if (trace === undefined) untraced = true;
    else links.set(`${trace.traceId}-${trace.spanId}`, trace);
  }
  const distinct = [...links.values()];
  const first = distinct[0];
  if (!untraced && first !== undefined && distinct.every((t) => t.traceId === first.traceId)) {
    return { span: childSpan(first), links: distinct.slice(1) };
  }
  return { span: childSpan(), links: distinct };
}

/**
 * The batch side of a consumer: decodes messages as they arrive, queues their events and hands them to the
 * handler in batches, `concurrency` at a time; see createConsumer.
 */
export function createBatchProcessor<M>(options: BatchProcessorOptions<M>) {
  const { pool, durable, isolation, handler, size, concurrency, lingerMs, settler, log } = options;
  const buffer: Queued<M>[] = [];
  /** The events in `buffer`. */
  let buffered = 0;
  // Workers with nothing queued wait for the next arrival; a worker holding a batch open (lingerMs) waits only
  // for it to fill, for its time to run out or for a stop: woken at every arrival, it would set a new timer per
  // message.
  const idle: Array<() => void> = [];
  const lingering: Array<() => void> = [];
  let workers: Promise<void> | undefined;
  let stopping = false;

  function wakeAll(waiters: Array<() => void>): void {
    for (const w of waiters.splice(0)) w();
  }

  function signal(): void {
    wakeAll(idle);
    if (stopping || buffered >= size) wakeAll(lingering);
  }

  // Messages with nothing to handle, acknowledged together: with lingerMs, when the next batch is acknowledged
  // or lingerMs after the first of them, whichever comes first. A message that arrived alone would otherwise
  // cost a write to NATS of its own (acknowledgements in one event-loop turn share one).
  let unread: Array<{ msg: JsMsg; type: string }> = [];
  let unreadTimer: NodeJS.Timeout | undefined;

  function ackUnread(msg: JsMsg, type: string): void {
    if (lingerMs <= 0) {
      settler.ack(msg, type, "ignored");
      return;
    }
    unread.push({ msg, type });
    unreadTimer ??= setTimeout(flushUnread, lingerMs);
  }

  function flushUnread(): void {
    clearTimeout(unreadTimer);
    unreadTimer = undefined;
    const acked = unread;
    unread = [];
    for (const u of acked) settler.ack(u.msg, u.type, "ignored");
  }

  /** Decodes a message on arrival: settles it at once when there is nothing to handle, else queues its events. */
  function decodeOne(msg: JsMsg, envelope: Envelope): void {
    const { id, type } = envelope;
    if (id === "") {
      log.error({ subject: msg.subject, seq: msg.seq }, "event without ce-id terminated");
      settler.terminate(msg, type);
      return;
    }
    let decoded: Decoded<M>;
    try {
      decoded = handler.decode({ ...envelope, message: msg.data });
    } catch (err) {
      decoded = { poison: err instanceof Error ? err.message : String(err) };
    }
    if ("poison" in decoded) {
      // Redelivery cannot fix an event that does not decode or cannot be handled.
      log.error({ eventId: id, type, reason: decoded.poison }, "event cannot be handled; terminated");
      settler.terminate(msg, type);
    } else if ("ignore" in decoded || decoded.events.length === 0) {
      log.debug({ eventId: id, type }, "nothing to handle in event; acknowledged");
      ackUnread(msg, type);
    } else {
      const events = decoded.events.map((e) => ({
        event: { ...envelope, id: e.id, message: e.message },
        entry: { consumer: e.inbox ?? durable, eventId: e.id },
      }));
      buffer.push({ msg, envelope, events, queuedAt: performance.now() });
      buffered += events.length;
      signal();
    }
  }

  /**
   * Handles events in one transaction with their inbox rows, then the handler's after-commit work; returns the
   * events handled (the others were in the inbox already).
   */
  async function handleEvents(events: Pending<M>[]): Promise<Set<Pending<M>>> {
    const entries = events.map((e) => e.entry);
    const { todo, after } = await withTransaction(
      pool,
      async (tx, opened) => {
        // The same event twice in one batch is handled once, the first time.
        const left = await recordedInInbox(tx, entries, opened);
        const todo = events.filter((e) => left.delete(inboxKey(e.entry)));
        const handled = todo.map((e) => e.event);
        return { todo, after: handled.length === 0 ? undefined : await handler.handle(handled, tx) };
      },
      { isolation, opening: inboxOpening(entries) },
    );
    await after?.();
    return new Set(todo);
  }

  function ack(q: Queued<M>, fresh: Set<Pending<M>>): void {
    const handled = q.events.some((e) => fresh.has(e));
    settler.ack(q.msg, q.envelope.type, handled ? "handled" : "duplicate");
  }

  /** One message alone, in a span of its own trace: after its batch failed. */
  async function handleAlone(q: Queued<M>): Promise<void> {
    await runInSpan(childSpan(q.envelope.trace), async () => {
      try {
        ack(q, await handleEvents(q.events));
      } catch (err) {
        settler.failed(q.msg, q.envelope, err);
      }
    });
  }

  async function process(batch: Queued<M>[]): Promise<void> {
    const events = batch.flatMap((q) => q.events);
    const { span, links } = batchSpan(batch.map((q) => q.envelope.trace));
    let failure: { err: unknown } | undefined;
    await runInSpan(span, async () => {
      const traces = links.map(formatTraceparent);
      try {
        const fresh = await handleEvents(events);
        for (const q of batch) ack(q, fresh);
        flushUnread();
        log.debug({ events: events.length, fresh: fresh.size, links: traces }, "batch handled");
      } catch (err) {
        failure = { err };
        if (batch.length > 1) {
          log.warn(
            { err, events: events.length, links: traces },
            "batch failed; handling its messages one by one",
          );
        }
      }
    });
    if (failure === undefined) return;
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      const { err } = failure;
      runInSpan(childSpan(only.envelope.trace), () => settler.failed(only.msg, only.envelope, err));
      return;
    }
    for (const q of batch) await handleAlone(q);
  }

  /** Takes whole messages off the queue until they hold `size` events (at least one message). */
  function take(): Queued<M>[] {
    let n = 0;
    let count = 0;
    while (n < buffer.length && (n === 0 || count + (buffer[n]?.events.length ?? 0) <= size)) {
      count += buffer[n]?.events.length ?? 0;
      n++;
    }
    buffered -= count;
    return buffer.splice(0, n);
  }

  /** Resolves at the next arrival, or at stop. */
  function nextArrival(): Promise<void> {
    return new Promise<void>((resolve) => {
      idle.push(resolve);
    });
  }

  /** Resolves once the queue holds a full batch, at stop, or after `ms`. */
  function fullBatchOr(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const woken = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = lingering.indexOf(woken);
        if (at >= 0) lingering.splice(at, 1);
        resolve();
      }, ms);
      lingering.push(woken);
    });
  }

  /** How much longer the oldest queued event may wait for others to share its batch, in ms; 0: handle now. */
  function lingerLeft(): number {
    const first = buffer[0];
    if (lingerMs <= 0 || stopping || first === undefined || buffered >= size) return 0;
    return Math.max(0, first.queuedAt + lingerMs - performance.now());
  }

  async function work(): Promise<void> {
    for (;;) {
      if (buffer.length === 0) {
        if (stopping) return;
        await nextArrival();
        continue;
      }
      const linger = lingerLeft();
      if (linger > 0) {
        await fullBatchOr(linger);
        continue;
      }
      await process(take()).catch((err: unknown) => log.error({ err }, "batch not settled"));
    }
  }

  return {
    /** Decodes an arrived message in a span of its own trace, and queues or settles it. */
    arrive(msg: JsMsg): void {
      const envelope = settler.envelope(msg);
      runInSpan(childSpan(envelope.trace), () => decodeOne(msg, envelope));
    },
    /** Starts the workers that take batches off the queue. */
    start(): void {
      stopping = false;
      workers ??= Promise.all(Array.from({ length: concurrency }, work)).then(() => undefined);
    },
    /** Handles what is queued, then stops the workers; call after the pull has stopped. */
    async stop(): Promise<void> {
      stopping = true;
      signal();
      await workers;
      workers = undefined;
      flushUnread();
    },
  };
}
