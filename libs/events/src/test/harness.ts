import { Writable } from "node:stream";
import { createPool, migrate } from "@fintech/db";
import type { NatsFixture, PgFixture } from "@fintech/testing";
import { test as base } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import { pino } from "pino";
import { Registry } from "prom-client";
import { eventsMigrationsDir } from "../migrations-dir.js";

/** The file's schema with the events migrations applied, and its NATS namespace. */
export interface EventsFixture {
  pg: PgFixture;
  nats: NatsFixture;
}

/** `test` with an `events` fixture: the file-scoped `pg` and `nats` fixtures, migrated once per file. */
export const test = base.extend<{ $file: { events: EventsFixture } }>({
  events: [
    async ({ pg, nats }, use) => {
      await migrate({ url: pg.url, schema: pg.schema, dirs: [eventsMigrationsDir] });
      await use({ pg, nats });
    },
    { scope: "file" },
  ],
});

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger at debug level that keeps its lines for assertions, and a fresh metrics registry. */
export function captureLogs(): { logger: Logger; lines: LogLine[]; registry: Registry } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), lines, registry: new Registry() };
}

/** Number of messages currently stored in a stream. */
export async function streamMessages(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** A pool whose every statement's text is recorded, as the relay sends it. */
export function recordingPool(url: string, schema: string): { pool: pg.Pool; sent: string[] } {
  const pool = createPool({ url, schema, max: 2 });
  const sent: string[] = [];
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    Object.assign(client, {
      query: (...args: unknown[]) => {
        const [config] = args;
        sent.push(typeof config === "string" ? config : String((config as { text?: unknown }).text));
        return query(...args);
      },
    });
  });
  return { pool, sent };
}
