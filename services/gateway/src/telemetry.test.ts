import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Telemetry } from "@fintech/platform";
import { startTelemetry } from "@fintech/platform";
import type { OtlpReceiver, ReceivedSpan } from "@fintech/testing";
import { createTestTokens, freePorts, recordLogs, startOtlpReceiver, test, waitFor } from "@fintech/testing";
import pg from "pg";
import { describe, expect } from "vitest";
import { parseGatewayConfig } from "./config.js";
import { build } from "./server.js";

// The gateway in this process and identity's real main.ts in a child process, each exporting its spans over
// OTLP to one receiver, as two pods export to one collector: a REST call through both is one trace.

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** identity's main.ts as its own process; resolves once it listens. */
async function startIdentity(env: Record<string, string>) {
  const lines: string[] = [];
  const child: ChildProcess = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(root, "services/identity/src/main.ts")],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const logs = () => lines.join("");
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`identity exited while starting:\n${logs()}`);
      return logs().includes('"msg":"identity listening"');
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  return {
    logs,
    /** SIGTERM, as an orchestrator stops a pod; resolves with the exit code. */
    stop(): Promise<number | null> {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("traces across services", () => {
  test("a REST call through the gateway to identity is one trace, parent to child, with the ids both logs print", async ({
    pg: db,
    nats,
    redis,
  }) => {
    const receiver: OtlpReceiver = await startOtlpReceiver();
    const schema = `${db.schema}_identity`;
    const [port = 0, metricsPort = 0] = await freePorts(2);
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
    let telemetry: Telemetry | undefined;
    let identity: Awaited<ReturnType<typeof startIdentity>> | undefined;
    let gateway: ReturnType<typeof build> | undefined;
    try {
      identity = await startIdentity({
        ...otel,
        DATABASE_URL: db.url,
        DB_SCHEMA: schema,
        NATS_URL: nats.url,
        EVENTS_NAMESPACE: nats.namespace,
        HOST: "127.0.0.1",
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
      });

      telemetry = startTelemetry({ serviceName: "gateway", logger: recordLogs("gateway").logger, env: otel });
      const log = recordLogs("gateway");
      const config = {
        ...parseGatewayConfig({
          BACKENDS: "identity",
          IDENTITY_URL: `http://127.0.0.1:${port}`,
          RATE_LIMIT_PREFIX: redis.prefix,
        }),
        METRICS_PORT: 0,
      };
      gateway = build(config, {
        redis: redis.client,
        logger: log.logger,
        authenticator: (await createTestTokens()).authenticator,
      });
      const { url } = await gateway.start({ port: 0, host: "127.0.0.1" });

      const res = await fetch(`${url}/api/v1/auth/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          email: "traced@example.com",
          password: "Correct horse 42 battery",
          full_name: "Traced User",
          timezone: "Asia/Kuala_Lumpur",
        }),
      });
      expect(res.status).toBe(201);

      // The gateway's request line and identity's RPC line name the same trace.
      const request = log
        .text()
        .split("\n")
        .map((l) => (l === "" ? {} : (JSON.parse(l) as Record<string, unknown>)))
        .find((l) => l.msg === "request" && l.route === "POST /api/v1/auth/register");
      const traceId = String(request?.trace_id);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      await waitFor(() => identity?.logs().includes(`"trace_id":"${traceId}"`) ?? false);

      // identity exports what is left when it stops, as it would when its pod is replaced.
      expect(await identity.stop()).toBe(0);
      await telemetry.flush();
      // Each process exports in its own batches: wait for identity's last span and the gateway's request.
      const spans = await waitFor(() => {
        const inTrace = receiver.spans.filter((s) => s.traceId === traceId);
        const arrived =
          inTrace.some((s) => s.kind === "producer") &&
          inTrace.some((s) => s.service === "gateway" && s.kind === "server");
        return arrived ? inTrace : undefined;
      });
      const one = (what: string, match: (s: ReceivedSpan) => boolean): ReceivedSpan => {
        const found = spans.filter(match);
        expect(found, what).toHaveLength(1);
        return found[0] as ReceivedSpan;
      };
      const rest = one("the REST request", (s) => s.service === "gateway" && s.kind === "server");
      expect(rest).toMatchObject({
        name: "POST /api/v1/auth/register",
        parentSpanId: "",
        attributes: { "http.route": "/api/v1/auth/register", "http.response.status_code": 201 },
      });
      const call = one("the gateway's call", (s) => s.service === "gateway" && s.kind === "client");
      expect(call).toMatchObject({
        name: "fintech.identity.v1.IdentityService/Register",
        parentSpanId: rest.spanId,
      });
      const rpc = one("identity's RPC", (s) => s.service === "identity" && s.kind === "server");
      expect(rpc).toMatchObject({
        name: "fintech.identity.v1.IdentityService/Register",
        parentSpanId: call.spanId,
      });
      // Its transaction, and the event that transaction wrote, published by the relay, follow.
      const transactions = spans.filter((s) => s.service === "identity" && s.name === "transaction");
      expect(transactions.length).toBeGreaterThan(0);
      expect(transactions.every((t) => t.parentSpanId === rpc.spanId)).toBe(true);
      const publish = one("the event's publish", (s) => s.kind === "producer");
      expect(publish).toMatchObject({ service: "identity", name: "publish identity.user.registered" });
      expect(transactions.map((t) => t.spanId)).toContain(publish.parentSpanId);
      expect(receiver.contentTypes.every((t) => t === "application/x-protobuf")).toBe(true);
    } finally {
      await gateway?.stop();
      await identity?.stop();
      await telemetry?.shutdown();
      await receiver.close();
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    }
  }, 180_000);
});
