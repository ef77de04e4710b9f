import type { MsgHdrs, NatsConnection, Subscription } from "@nats-io/transport-node";
import { createInbox } from "@nats-io/transport-node";
import { OutboxPublishError } from "./errors.js";

/** A JetStream publisher that waits for each message's PubAck without one request object per message. */
export interface StreamPublisher {
  /**
   * Publishes one message with `Nats-Msg-Id` set by the caller in `headers`, and settles when the stream acknowledges
   * it (a duplicate within the stream's window counts as acknowledged).
   * @throws OutboxPublishError when the stream refuses it, nothing listens on the subject, or no PubAck arrives in time.
   */
  publish(subject: string, payload: Uint8Array, headers: MsgHdrs): Promise<void>;
  /** Stops listening for acknowledgements; publishes still waiting fail. */
  close(): void;
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
  deadline: number;
}

interface PubAckBody {
  stream?: string;
  error?: { code?: number; err_code?: number; description?: string };
}

const decoder = new TextDecoder();

/**
 * JetStream's publish is a core publish with a reply subject to which the server answers a PubAck. nats.js makes
 * that a request per message, with its own timer and an Error (and its stack trace) built even on success, which
 * is most of a relay's CPU. Here one wildcard subscription receives every ack, a token in the reply subject finds
 * the waiting publish, and one sweep a second fails those past their deadline.
 */
export function createStreamPublisher(
  nc: NatsConnection,
  options: { ackTimeoutMs?: number } = {},
): StreamPublisher {
  const ackTimeoutMs = options.ackTimeoutMs ?? 5000;
  const prefix = createInbox();
  const pending = new Map<string, Pending>();
  let next = 0;
  let sub: Subscription | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  function settle(token: string, err?: Error): void {
    const p = pending.get(token);
    if (p === undefined) return;
    pending.delete(token);
    if (err) p.reject(err);
    else p.resolve();
  }

  function listen(): void {
    if (sub !== undefined && !sub.isClosed()) return;
    sub = nc.subscribe(`${prefix}.*`, {
      callback: (err, msg) => {
        if (err) {
          for (const token of [...pending.keys()])
            settle(token, new OutboxPublishError("ack subscription failed", { cause: err }));
          return;
        }
        const token = msg.subject.slice(prefix.length + 1);
        if (msg.headers?.hasError) {
          // 503 with no body: no stream listens on the subject (not created, or JetStream unavailable).
          settle(token, new OutboxPublishError(`publish to ${msg.headers.code} ${msg.headers.description}`));
          return;
        }
        let ack: PubAckBody;
        try {
          ack = JSON.parse(decoder.decode(msg.data)) as PubAckBody;
        } catch (cause) {
          settle(token, new OutboxPublishError("unreadable PubAck", { cause }));
          return;
        }
        if (ack.error)
          settle(
            token,
            new OutboxPublishError(`stream refused the event: ${ack.error.description ?? ack.error.code}`),
          );
        else if (!ack.stream) settle(token, new OutboxPublishError("PubAck without a stream"));
        else settle(token);
      },
    });
    sweeper = setInterval(
      () => {
        const now = Date.now();
        for (const [token, p] of pending) {
          if (p.deadline <= now) settle(token, new OutboxPublishError(`no PubAck within ${ackTimeoutMs} ms`));
        }
      },
      Math.min(1000, ackTimeoutMs),
    );
    sweeper.unref();
  }

  return {
    publish(subject, payload, headers) {
      listen();
      const token = (next++).toString(36);
      return new Promise<void>((resolve, reject) => {
        pending.set(token, { resolve, reject, deadline: Date.now() + ackTimeoutMs });
        try {
          nc.publish(subject, payload, { reply: `${prefix}.${token}`, headers });
        } catch (cause) {
          settle(token, new OutboxPublishError("publish failed", { cause }));
        }
      });
    },
    close() {
      clearInterval(sweeper);
      sub?.unsubscribe();
      sub = undefined;
      for (const token of [...pending.keys()]) settle(token, new OutboxPublishError("publisher closed"));
    },
  };
}
