import type { ClientHttp2Stream, ServerHttp2Session } from "node:http2";
import { connect as connectH2, constants, createServer as createH2Server } from "node:http2";
import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { waitFor } from "@fintech/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createBalancedSessionManager } from "./balanced-session-manager.js";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import { createServiceTransport } from "./service-transport.js";

// Two replicas of one service on two loopback addresses, as two pods behind a headless Service: each counts the
// requests it answered.
interface Replica {
  server: PlatformServer;
  host: string;
  port: number;
  url: string;
  answered: number;
}

const silent = createLogger({ name: "replica", level: "silent" });
const started: Replica[] = [];

async function replica(host: string, port = 0, opts: { maxConnectionAgeMs?: number } = {}): Promise<Replica> {
  const server = createServer({
    name: "replica",
    logger: silent,
    reflection: false,
    ...opts,
    routes: (router) =>
      router.service(PingService, {
        ping() {
          r.answered++;
          return { payload: host };
        },
      }),
  });
  const r: Replica = { server, host, port: 0, url: "", answered: 0 };
  const listening = await server.listen({ host, port });
  r.port = listening.port;
  r.url = listening.url;
  started.push(r);
  return r;
}

/** `calls` requests, `inFlight` at a time; the failures, by message. */
async function load(call: () => Promise<unknown>, calls: number, inFlight = 8): Promise<string[]> {
  const failures: string[] = [];
  let left = calls;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) {
        await call().catch((err: unknown) => failures.push(ConnectError.from(err).message));
      }
    }),
  );
  return failures;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.server.close({ graceMs: 1_000 })));
});

describe("createServiceTransport", () => {
  it("spreads requests evenly over the replicas of a URL list", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3");
    const client = createClient(PingService, createServiceTransport(`${a.url}, ${b.url}`));
    expect(await load(() => client.ping({ payload: "hi" }), 400)).toEqual([]);
    expect(a.answered + b.answered).toBe(400);
    // Within 20% of each other.
    expect(Math.abs(a.answered - b.answered)).toBeLessThanOrEqual(40);
  });

  it("spreads requests over every address a name resolves to, over the gRPC protocol too", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3", a.port);
    const client = createClient(
      PingService,
      createServiceTransport(`http://replicas.internal:${a.port}`, {
        protocol: "grpc",
        lookup: async (host) => (host === "replicas.internal" ? ["127.0.0.2", "127.0.0.3"] : []),
      }),
    );
    expect(await load(() => client.ping({ payload: "hi" }), 200)).toEqual([]);
    expect(Math.abs(a.answered - b.answered)).toBeLessThanOrEqual(20);
  });

  it("sends a stopped replica's share to the other, losing no request: those under way on it finish", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3");
    const client = createClient(PingService, createServiceTransport(`${a.url},${b.url}`));
    let stopping: Promise<void> | undefined;
    const failures = await load(async () => {
      await client.ping({ payload: "hi" });
      // Stopped under load: requests are under way on it.
      if (stopping === undefined && a.answered + b.answered > 100)
        stopping = b.server.close({ graceMs: 5_000 });
    }, 800);
    expect(failures).toEqual([]);
    expect(a.answered + b.answered).toBe(800);
    await stopping;
    const bStopped = b.answered;
    expect(await load(() => client.ping({ payload: "hi" }), 100)).toEqual([]);
    expect(b.answered).toBe(bStopped);
  });

  it("costs only the requests under way on a replica whose connections are cut", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3");
    const client = createClient(PingService, createServiceTransport(`${a.url},${b.url}`));
    let cut = false;
    const failures = await load(async () => {
      await client.ping({ payload: "hi" });
      if (!cut && a.answered + b.answered > 100) {
        cut = true;
        // No grace: what b is answering is cancelled, as when its process dies.
        void b.server.close({ graceMs: 0 });
      }
    }, 800);
    // At most the 8 requests in flight.
    expect(failures.length).toBeLessThanOrEqual(8);
    const bCut = b.answered;
    expect(await load(() => client.ping({ payload: "hi" }), 100)).toEqual([]);
    expect(b.answered).toBe(bCut);
  });

  it("starts sending to a replica added to the name once it is looked up again", async () => {
    const a = await replica("127.0.0.2");
    let addresses = ["127.0.0.2"];
    const client = createClient(
      PingService,
      createServiceTransport(`http://replicas.internal:${a.port}`, {
        lookup: async () => addresses,
        resolveIntervalMs: 100,
      }),
    );
    expect(await load(() => client.ping({ payload: "hi" }), 50)).toEqual([]);
    const b = await replica("127.0.0.3", a.port);
    addresses = ["127.0.0.2", "127.0.0.3"];
    await waitFor(async () => {
      await load(() => client.ping({ payload: "hi" }), 20, 4);
      return b.answered > 0;
    });
    const before = { a: a.answered, b: b.answered };
    expect(await load(() => client.ping({ payload: "hi" }), 200)).toEqual([]);
    expect(Math.abs(a.answered - before.a - (b.answered - before.b))).toBeLessThanOrEqual(20);
  });

  it("takes out a replica whose health check fails and puts it back when it answers SERVING again", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3");
    const client = createClient(
      PingService,
      createServiceTransport(`${a.url},${b.url}`, { healthIntervalMs: 50 }),
    );
    b.server.health.setNotServing();
    await waitFor(async () => {
      const before = b.answered;
      await load(() => client.ping({ payload: "hi" }), 20, 2);
      return b.answered === before;
    });
    const bOut = b.answered;
    expect(await load(() => client.ping({ payload: "hi" }), 100)).toEqual([]);
    expect(b.answered).toBe(bOut);

    b.server.health.setServing();
    await waitFor(async () => {
      await load(() => client.ping({ payload: "hi" }), 20, 2);
      return b.answered > bOut;
    });
  });

  it("looks a name up with the system's resolver by default (localhost, as /etc/hosts gives it)", async () => {
    const a = await replica("127.0.0.1");
    const client = createClient(PingService, createServiceTransport(`http://localhost:${a.port}`));
    expect(await load(() => client.ping({ payload: "hi" }), 50)).toEqual([]);
    expect(a.answered).toBe(50);
  });

  it("keeps the addresses a name had when a later look-up fails", async () => {
    const a = await replica("127.0.0.2");
    const b = await replica("127.0.0.3", a.port);
    let dnsUp = true;
    const manager = createBalancedSessionManager(`http://replicas.internal:${a.port}`, {
      lookup: async () => {
        if (!dnsUp) throw new Error("getaddrinfo EAI_AGAIN replicas.internal");
        return ["127.0.0.2", "127.0.0.3"];
      },
    });
    const client = createClient(
      PingService,
      createConnectTransport({ baseUrl: manager.authority, httpVersion: "2", sessionManager: manager }),
    );
    try {
      expect(await load(() => client.ping({ payload: "hi" }), 20)).toEqual([]);
      dnsUp = false;
      await manager.resolve();
      expect(manager.addresses().map((x) => x.address)).toEqual([
        `127.0.0.2:${a.port}`,
        `127.0.0.3:${a.port}`,
      ]);
      expect(await load(() => client.ping({ payload: "hi" }), 200)).toEqual([]);
      expect(Math.min(a.answered, b.answered)).toBeGreaterThan(80);
    } finally {
      manager.close();
    }
  });

  it("asks for answers uncompressed: between services gzip costs both sides more than it saves", async () => {
    const server = createServer({
      name: "echo",
      logger: silent,
      reflection: false,
      routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
    });
    const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
    started.push({ server, host: "127.0.0.1", port: 0, url, answered: 0 });
    const encodings: string[] = [];
    const encoding: Interceptor = (next) => async (req) => {
      const res = await next(req);
      if (!res.stream) encodings.push(res.header.get("content-encoding") ?? "none");
      return res;
    };
    const payload = "x".repeat(64 * 1024);
    const stock = createConnectTransport({ baseUrl: url, httpVersion: "2", interceptors: [encoding] });
    expect((await createClient(PingService, stock).ping({ payload })).payload).toBe(payload);
    const internal = createServiceTransport(url, { interceptors: [encoding] });
    expect((await createClient(PingService, internal).ping({ payload })).payload).toBe(payload);
    // The same server compresses the answer for a stock client that asks, not for an internal one.
    expect(encodings).toEqual(["gzip", "none"]);
  });

  it("answers Unavailable when no replica can be reached", async () => {
    const client = createClient(PingService, createServiceTransport("http://127.0.0.2:1,http://127.0.0.3:1"));
    const err = await client.ping({ payload: "hi" }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Unavailable);
  });
});

describe("a server's maximum connection age", () => {
  it("tells each client to go after about maxConnectionAgeMs, and balanced clients reconnect without errors", async () => {
    const a = await replica("127.0.0.2", 0, { maxConnectionAgeMs: 150 });
    const b = await replica("127.0.0.3", 0, { maxConnectionAgeMs: 150 });

    const session = connectH2(a.url);
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code) => resolve(code)));
    session.on("error", () => undefined);
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR);
    session.destroy();

    const client = createClient(PingService, createServiceTransport(`${a.url},${b.url}`));
    const deadline = Date.now() + 1_500;
    const failures: string[] = [];
    while (Date.now() < deadline) {
      failures.push(...(await load(() => client.ping({ payload: "hi" }), 200)));
    }
    expect(failures).toEqual([]);
  });

  it("does not end the process when a GOAWAY reaches an idle connection and a request comes at once", async () => {
    // A bare HTTP/2 server that answers every request "ok" and closes connections when told.
    const sessions: ServerHttp2Session[] = [];
    const server = createH2Server();
    server.on("session", (s) => sessions.push(s));
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200 });
      stream.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const manager = createBalancedSessionManager(`http://127.0.0.1:${port}`);
    const body = (stream: ClientHttp2Stream) =>
      new Promise<string>((resolve, reject) => {
        let text = "";
        stream.setEncoding("utf8");
        stream.on("data", (chunk: string) => {
          text += chunk;
        });
        stream.on("end", () => resolve(text));
        stream.on("error", reject);
        stream.end();
      });
    try {
      const first = await manager.request("GET", "/", {}, {});
      const session = first.session;
      expect(await body(first)).toBe("ok");
      await waitFor(() => (first.closed ? true : undefined));
      // The client's session manager destroys an idle connection that gets a GOAWAY, with an error it emits a
      // moment later; a request made in between (here, as the GOAWAY arrives) replaces the connection and stops
      // listening to the old one. Unheard, that error would be an uncaught exception, which ends a process.
      const next = new Promise<ClientHttp2Stream>((resolve, reject) => {
        session?.once("goaway", () => {
          manager.request("GET", "/", {}, {}).then(resolve, reject);
        });
      });
      sessions[0]?.goaway(constants.NGHTTP2_NO_ERROR);
      expect(await body(await next)).toBe("ok");
      // The error comes on the next turn of the event loop.
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      manager.close();
      for (const s of sessions) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
