// A ledger in a process of its own, for crash.test.ts: the real build over the test file's schema and stream,
// trusting the parent's test key (its public JWK in LEDGER_TEST_JWK). Prints "port <n>" once it serves; the
// parent kills it with SIGKILL mid-load.
import { rememberBearer } from "@fintech/auth";
import { createPool } from "@fintech/db";
import { trustingAuthenticator } from "@fintech/testing/tokens";
import { connect } from "@nats-io/transport-node";
import pino from "pino";
import { parseLedgerConfig } from "../config.js";
import { build } from "../server.js";

const { LEDGER_TEST_JWK } = process.env;
if (!LEDGER_TEST_JWK) throw new Error("LEDGER_TEST_JWK is required");
const parentKey = JSON.parse(LEDGER_TEST_JWK) as Parameters<typeof trustingAuthenticator>[0];
const config = { ...parseLedgerConfig(), METRICS_PORT: 0 };
const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX });
const nc = await connect({ servers: config.NATS_URL });
const app = build(config, {
  pool,
  nc,
  logger: pino({ level: "silent" }),
  clock: { now: () => new Date() },
  authenticator: rememberBearer(trustingAuthenticator(parentKey)),
});
const { port } = await app.start({ port: 0, host: "127.0.0.1" });
process.stdout.write(`port ${port}\n`);
