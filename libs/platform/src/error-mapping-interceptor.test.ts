import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createPool } from "@fintech/db";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { freePort as closedPort, test, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { errorInfoOf } from "./errors.js";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";

type LogLine = Record<string, unknown>;

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  return call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => ConnectError.from(e),
  );
}

describe("transient failures answer Unavailable, not Internal", () => {
  test("a database that refuses, a connection terminated under a query, a dead downstream", async ({
    pg,
  }) => {
    const lines: LogLine[] = [];
    const logger = createLogger({
      name: "transient-test",
      level: "debug",
      destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    });
    const refusedUrl = new URL(pg.url);
    refusedUrl.host = `127.0.0.1:${await closedPort()}`;
    const refusing = createPool({ url: refusedUrl.toString(), onError: () => {} });
    const deadPeer = createClient(
      PingService,
      createConnectTransport({ baseUrl: `http://127.0.0.1:${await closedPort()}`, httpVersion: "2" }),
    );
    let sleepingPid: number | undefined;
    const server: PlatformServer = createServer({
      name: "transient-test",
      logger,
      routes: (router) =>
        router.service(PingService, {
          async ping(req) {
            switch (req.payload) {
              case "refused":
                await refusing.query("SELECT 1");
                break;
              case "terminated": {
                const client = await pg.pool.connect();
                client.on("error", () => {});
                try {
                  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
                  sleepingPid = rows[0]?.pid;
                  await client.query("SELECT pg_sleep(30)");
                } finally {
                  client.release(true);
                }
                break;
              }
              case "downstream":
                await deadPeer.ping({ payload: "x" });
                break;
              case "bug":
                throw new TypeError("cannot read properties of undefined");
            }
            return { payload: req.payload };
          },
        }),
    });
    const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
    const client = createClient(PingService, createGrpcTransport({ baseUrl: url }));
    try {
      for (const payload of ["refused", "downstream"]) {
        const err = await failure(client.ping({ payload }));
        expect(err.code, payload).toBe(Code.Unavailable);
        expect(errorInfoOf(err)?.reason, payload).toBe("UNAVAILABLE");
        expect(err.rawMessage, payload).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
      }

      const terminated = failure(client.ping({ payload: "terminated" }));
      // Our own handler's connection, and only once it is inside pg_sleep.
      const pid = await waitFor(async () => {
        if (sleepingPid === undefined) return undefined;
        const { rowCount } = await pg.pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
          [sleepingPid],
        );
        return rowCount === 1 ? sleepingPid : undefined;
      });
      await pg.pool.query("SELECT pg_terminate_backend($1)", [pid]);
      const err = await terminated;
      expect(err.code).toBe(Code.Unavailable);
      expect(errorInfoOf(err)).toMatchObject({ reason: "UNAVAILABLE", domain: "transient-test" });

      // Logged at warn, once per request, without a stack.
      const warned = lines.filter((l) => l.level === "warn" && l.method === "Ping");
      expect(warned).toHaveLength(3);
      expect(JSON.stringify(warned)).not.toContain("    at ");
      expect(lines.filter((l) => l.level === "error")).toEqual([]);

      // A bug is still Internal, now with an ErrorInfo a gateway can tell from a transport failure.
      const bug = await failure(client.ping({ payload: "bug" }));
      expect(bug.code).toBe(Code.Internal);
      expect(bug.rawMessage).toBe("internal error");
      expect(errorInfoOf(bug)?.reason).toBe("INTERNAL");
    } finally {
      await server.close({ graceMs: 0 });
      await refusing.end();
    }
  });
});
