import { createHash } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { CloudEventHeaders, namespacedSubject, PROTOBUF_CONTENT_TYPE } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import type { ImportedRow } from "@fintech/proto/fintech/analytics/v1/events_pb.js";
import { ImportedRowSchema, ImportedRowsSchema } from "@fintech/proto/fintech/analytics/v1/events_pb.js";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import type { RowPublisher } from "./import-runner.js";

/** The event type (and un-namespaced subject) imported rows are published as, on the analytics stream. */
export const IMPORT_ROWS_TYPE = "analytics.import.rows";
/** The filter of the consumer counting imported rows. */
export const IMPORT_SUBJECTS = "analytics.import.>";
/** Header naming the import a message came from (for logs and tracing). */
export const IMPORT_ID_HEADER = "analytics-import-id";

/** Options for {@link createImportPublisher}. */
export interface ImportPublisherOptions {
  nc: NatsConnection;
  namespace?: string;
  importId: string;
  clock: Clock;
  /** Rows per message at most; default 100. */
  rowsPerMessage?: number;
  /** Messages awaiting their PubAck at most; default 64. */
  window?: number;
  /** Attempts per message (same Nats-Msg-Id, so a retry after a lost PubAck stores nothing twice); default 3. */
  attempts?: number;
}

/**
 * Publishes imported rows to JetStream as ImportedRows messages of up to `rowsPerMessage` consecutive rows,
 * with the CloudEvents headers every consumer expects; ce-id and Nats-Msg-Id are a digest of the rows' event
 * ids, so the same rows grouped the same way are stored once within JetStream's duplicate window (and counted
 * once in any case: each row keeps its own event id for the inbox). Keeps up to `window` messages in flight.
 */
export function createImportPublisher(opts: ImportPublisherOptions): RowPublisher {
  const js = jetstream(opts.nc);
  const subject = namespacedSubject(IMPORT_ROWS_TYPE, opts.namespace ?? "");
  const rowsPerMessage = opts.rowsPerMessage ?? 100;
  const window = opts.window ?? 64;
  const attempts = opts.attempts ?? 3;
  const inFlight = new Set<Promise<void>>();
  const waiting: Array<() => void> = [];
  let queued: ImportedRow[] = [];
  let failure: unknown;

  async function publishMessage(rows: ImportedRow[]): Promise<void> {
    const digest = createHash("sha256");
    for (const row of rows) digest.update(row.eventId);
    const id = digest.digest("hex").slice(0, 32);
    const h = headers();
    h.set(CloudEventHeaders.specVersion, "1.0");
    h.set(CloudEventHeaders.id, id);
    h.set(CloudEventHeaders.type, IMPORT_ROWS_TYPE);
    h.set(CloudEventHeaders.source, "analytics");
    h.set(CloudEventHeaders.time, opts.clock.now().toISOString());
    h.set(CloudEventHeaders.contentType, PROTOBUF_CONTENT_TYPE);
    h.set(IMPORT_ID_HEADER, opts.importId);
    const data = toBinary(ImportedRowsSchema, create(ImportedRowsSchema, { importId: opts.importId, rows }));
    for (let attempt = 1; ; attempt++) {
      try {
        await js.publish(subject, data, { msgID: id, headers: h });
        return;
      } catch (err) {
        if (attempt >= attempts) throw err;
      }
    }
  }

  async function send(): Promise<void> {
    if (failure !== undefined) throw failure;
    if (queued.length === 0) return;
    const rows = queued;
    queued = [];
    while (inFlight.size >= window) {
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
      });
    }
    const p: Promise<void> = publishMessage(rows)
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => {
        inFlight.delete(p);
        waiting.shift()?.();
      });
    inFlight.add(p);
  }

  return {
    async publish(id, line, transaction) {
      queued.push(create(ImportedRowSchema, { eventId: id, line: BigInt(line), transaction }));
      if (queued.length >= rowsPerMessage) await send();
    },
    send,
    async flush() {
      await send();
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;
    },
  };
}
