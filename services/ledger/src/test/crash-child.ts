// A ledger in a process of its own, for crash.test.ts: the real build over the test file's schema and stream,
// trusting the parent's test key. Prints "port <n>" once it serves; the parent kills it with SIGKILL mid-load.
import type { JsonWebKey } from "node:crypto";
import { createPool } from "@fintech/db";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { parseLedgerConfig } from "../config.js";
import { build } from "../server.js";
import { testAuthenticator } from "./keys.js";

const { LEDGER_TEST_JWK } = process.env;
if (!LEDGER_TEST_JWK) throw new Error("LEDGER_TEST_JWK is required");
const config = { ...parseLedgerConfig(), METRICS_PORT: 0 };
const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX });
const nc = await connect({ servers: config.NATS_URL });
const app = build(config, {
  pool,
  nc,
  logger: pino({ level: "silent" }),
  clock: { now: () => new Date() },
  authenticator: testAuthenticator(JSON.parse(LEDGER_TEST_JWK) as JsonWebKey),
});
const { port } = await app.start({ port: 0, host: "127.0.0.1" });
process.stdout.write(`port ${port}\n`);
