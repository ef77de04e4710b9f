import type { StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { nanos } from "@nats-io/transport-node";
import { namespacedSubject, streamName } from "./namespace.js";

export interface EnsureStreamOptions {
  /** Bounded context that owns the stream, e.g. `"fx"`: stream `FX` on subjects `fx.>`. */
  context: string;
  /** `""` (the default) in production; a per-test-file value in tests. */
  namespace?: string;
  /** Stream replicas; default 1. Use 3 on a 3-node cluster. */
  replicas?: number;
  /**
   * Window in milliseconds in which a second publish with the same `Nats-Msg-Id` is dropped; default 120 000
   * (2 minutes). The outbox relay relies on it: it must exceed the longest time a published row can stay unmarked.
   */
  duplicateWindowMs?: number;
}

/**
 * Creates the context's file-storage stream, or updates it to this configuration when it exists. Safe to call
 * from every replica at start-up.
 * @returns the stream's info after the create or update.
 */
export async function ensureStream(nc: NatsConnection, options: EnsureStreamOptions): Promise<StreamInfo> {
  const { context, namespace = "", replicas = 1, duplicateWindowMs = 120_000 } = options;
  const jsm = await jetstreamManager(nc);
  const config = {
    name: streamName(context, namespace),
    subjects: [namespacedSubject(`${context}.>`, namespace)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: replicas,
    duplicate_window: nanos(duplicateWindowMs),
  } satisfies Partial<StreamConfig>;
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    try {
      return await jsm.streams.add(config);
    } catch (addErr) {
      // Another replica created it between our info and add: fall through to the update.
      if (apiErrorCode(addErr) !== STREAM_NAME_IN_USE) throw addErr;
    }
  }
  const { name: _name, storage: _storage, ...updatable } = config;
  return await jsm.streams.update(config.name, updatable);
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === "StreamNotFoundError";
}

/** JetStream API error code for "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058;

function apiErrorCode(err: unknown): number | undefined {
  if (!(err instanceof Error) || err.name !== "JetStreamApiError" || !("code" in err)) return undefined;
  return typeof err.code === "number" ? err.code : undefined;
}
