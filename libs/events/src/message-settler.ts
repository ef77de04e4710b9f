import { parseTraceparent, TRACEPARENT_HEADER } from "@fintech/platform";
import type { JsMsg } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { CloudEventHeaders } from "./cloud-events.js";
import type { EventsMetrics } from "./metrics.js";
import { stripNamespace } from "./namespace.js";

/** A message's CloudEvents attributes and trace, as both consumer modes read them. */
export interface Envelope {
  /** `ce-id`; "" when missing. */
  id: string;
  /** `ce-type` (else the subject), un-namespaced. */
  type: string;
  source: string;
  time: Date;
  trace: ReturnType<typeof parseTraceparent>;
}

/** Options for {@link createMessageSettler}. */
export interface MessageSettlerOptions {
  durable: string;
  namespace: string;
  maxDeliver: number;
  backoffMs: number[];
  metrics: EventsMetrics;
  log: Logger;
}

/** How a consumer reads a message's envelope and settles it, counting every outcome. */
export function createMessageSettler(options: MessageSettlerOptions) {
  const { durable, namespace, maxDeliver, backoffMs, metrics, log } = options;

  function count(type: string, outcome: string): void {
    metrics.consumed.inc({ consumer: durable, type, outcome });
  }

  function terminate(msg: JsMsg, type: string): void {
    count(type, "terminated");
    // No reason argument: NATS 2.9 does not parse "+TERM <reason>" and leaves the message pending until ack wait.
    msg.term();
  }

  return {
    count,
    terminate,

    envelope(msg: JsMsg): Envelope {
      const ceTime = new Date(msg.headers?.get(CloudEventHeaders.time) ?? "");
      return {
        id: msg.headers?.get(CloudEventHeaders.id) ?? "",
        type: msg.headers?.get(CloudEventHeaders.type) || stripNamespace(msg.subject, namespace),
        source: msg.headers?.get(CloudEventHeaders.source) ?? "",
        // Without a valid ce-time, the time the stream stored the message is the closest truth.
        time: Number.isNaN(ceTime.getTime()) ? msg.time : ceTime,
        trace: parseTraceparent(msg.headers?.get(TRACEPARENT_HEADER)),
      };
    },

    ack(msg: JsMsg, type: string, outcome: "handled" | "duplicate" | "ignored"): void {
      count(type, outcome);
      msg.ack();
    },

    /** A handler failed: retried after the backoff, or terminated on its last delivery, logged either way. */
    failed(msg: JsMsg, envelope: Envelope, err: unknown): void {
      const { id: eventId, type } = envelope;
      const deliveries = msg.info.deliveryCount;
      if (deliveries >= maxDeliver) {
        log.error(
          { err, eventId, type, deliveries },
          "event handler failed on the last delivery; terminated",
        );
        terminate(msg, type);
        return;
      }
      const delay = backoffMs[Math.min(deliveries, backoffMs.length) - 1] ?? 0;
      log.warn({ err, eventId, type, deliveries, retryInMs: delay }, "event handler failed; will retry");
      count(type, "retried");
      msg.nak(delay);
    },
  };
}

export type MessageSettler = ReturnType<typeof createMessageSettler>;
