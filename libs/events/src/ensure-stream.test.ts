import { jetstreamManager, StorageType } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import { ensureStream } from "./ensure-stream.js";
import { test } from "./test/harness.js";

describe("ensureStream", () => {
  test("creates a file stream for the context's subjects with a 2 minute duplicate window", async ({
    nats,
  }) => {
    const info = await ensureStream(nats.nc, { context: "fx", namespace: nats.namespace });
    expect(info.config.name).toBe(`${nats.namespace.toUpperCase()}_FX`);
    expect(info.config.subjects).toEqual([`${nats.namespace}.fx.>`]);
    expect(info.config.storage).toBe(StorageType.File);
    expect(info.config.num_replicas).toBe(1);
    expect(info.config.duplicate_window).toBe(120_000_000_000);
  });

  test("updates an existing stream, and concurrent calls all succeed", async ({ nats }) => {
    const opts = { context: "ledger", namespace: nats.namespace };
    await ensureStream(nats.nc, opts);
    const results = await Promise.all(
      [1, 2, 3].map(() => ensureStream(nats.nc, { ...opts, duplicateWindowMs: 30_000 })),
    );
    expect(results.map((r) => r.config.duplicate_window)).toEqual([30e9, 30e9, 30e9]);
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(`${nats.namespace.toUpperCase()}_LEDGER`);
    expect(info.config.duplicate_window).toBe(30_000_000_000);
  });

  test("creates concurrently from several replicas without failing", async ({ nats }) => {
    const opts = { context: "wallet", namespace: nats.namespace };
    const results = await Promise.all([1, 2, 3].map(() => ensureStream(nats.nc, opts)));
    expect(new Set(results.map((r) => r.config.name))).toEqual(
      new Set([`${nats.namespace.toUpperCase()}_WALLET`]),
    );
  });
});
