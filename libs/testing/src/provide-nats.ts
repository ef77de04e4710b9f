import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";

/** A NATS connection plus a namespace that keeps one test file's streams and subjects apart from others'. */
export interface NatsFixture {
  url: string;
  /**
   * `t<8 hex>`. Event code prefixes it: streams are named `<NAMESPACE>_<CTX>` (upper case), subjects
   * `<namespace>.<ctx>.>`. Every stream whose name starts with `<NAMESPACE>_` is deleted after the file.
   */
  namespace: string;
  /** Drained by the fixture after the file; do not close it. */
  nc: NatsConnection;
}

/**
 * Connects, hands the connection and a fresh namespace to `use`, then deletes the namespace's JetStream streams
 * and drains the connection even when `use` throws. The vitest `nats` fixture is this function.
 */
export async function provideNats(
  natsUrl: string,
  use: (fixture: NatsFixture) => Promise<void>,
): Promise<void> {
  const namespace = `t${randomBytes(4).toString("hex")}`;
  const nc = await connect({ servers: natsUrl, name: `test ${namespace}` });
  try {
    await use({ url: natsUrl, namespace, nc });
  } finally {
    // If the test closed the shared connection anyway, clean up over a new one rather than leak streams.
    const cleaner = nc.isClosed()
      ? await connect({ servers: natsUrl, name: `test ${namespace} cleanup` })
      : nc;
    try {
      await deleteStreams(cleaner, `${namespace.toUpperCase()}_`);
    } finally {
      await cleaner.drain();
    }
  }
}

/** Deletes every JetStream stream whose name starts with `namePrefix` (`<NAMESPACE>_` for a namespace). */
export async function deleteStreams(nc: NatsConnection, namePrefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const doomed: string[] = [];
  for await (const name of jsm.streams.names()) {
    if (name.startsWith(namePrefix)) doomed.push(name);
  }
  for (const name of doomed) await jsm.streams.delete(name);
}
