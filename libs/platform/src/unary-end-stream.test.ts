import type { AddressInfo, Socket } from "node:net";
import { connect, createServer as createTcpServer } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { grpcClient, unary } from "@fintech/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import { createServiceTransport } from "./service-transport.js";

interface Frame {
  from: "client" | "server";
  type: number;
  flags: number;
  length: number;
  stream: number;
}

const DATA = 0x0;
const HEADERS = 0x1;
const END_STREAM = 0x1;
const PREFACE_BYTES = 24;

/**
 * A TCP proxy in front of `port` that reads the HTTP/2 frames going each way (9-byte header: length, type, flags,
 * stream id) and passes the bytes on untouched.
 */
async function frameRecorder(port: number) {
  const frames: Frame[] = [];
  const sockets = new Set<Socket>();
  const reader = (from: Frame["from"]) => {
    let pending = Buffer.alloc(0);
    let skip = from === "client" ? PREFACE_BYTES : 0;
    return (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          pending = pending.subarray(n);
          skip -= n;
          if (skip > 0) return;
        }
        if (pending.length < 9) return;
        const length = pending.readUIntBE(0, 3);
        frames.push({
          from,
          length,
          type: pending[3] ?? -1,
          flags: pending[4] ?? 0,
          stream: pending.readUInt32BE(5) & 0x7fffffff,
        });
        skip = 9 + length;
      }
    };
  };
  const proxy = createTcpServer((client) => {
    const server = connect(port, "127.0.0.1");
    for (const s of [client, server]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", reader("client"));
    server.on("data", reader("server"));
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    port: (proxy.address() as AddressInfo).port,
    frames,
    /** The DATA frames of request streams (stream ids above 0). */
    data: () => frames.filter((f) => f.type === DATA && f.stream > 0),
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

describe("a Connect unary call over HTTP/2", () => {
  let server: PlatformServer;
  let recorder: Awaited<ReturnType<typeof frameRecorder>>;

  beforeAll(async () => {
    server = createServer({
      name: "frames",
      logger: createLogger({ name: "frames", level: "silent" }),
      reflection: false,
      routes: (router) =>
        router.service(PingService, {
          ping(req) {
            if (req.payload === "refuse")
              throw new ConnectError("refused on purpose", Code.FailedPrecondition);
            return { payload: req.payload.toUpperCase() };
          },
        }),
    });
    const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
    recorder = await frameRecorder(port);
  });

  afterAll(async () => {
    await recorder?.close();
    await server?.close({ graceMs: 100 });
  });

  beforeEach(() => {
    recorder.frames.length = 0;
  });

  // One DATA frame each way, ending its stream: no empty frame after the message, which was a second write, a
  // second segment and a second wake-up of the peer for every call.
  it("sends its request and its answer each in one DATA frame that ends the stream", async () => {
    const client = createClient(PingService, createServiceTransport(recorder.url));
    for (const payload of ["one", "two", "three"]) {
      expect((await client.ping({ payload })).payload).toBe(payload.toUpperCase());
    }
    const data = recorder.data();
    expect(data.filter((f) => f.from === "client")).toHaveLength(3);
    expect(data.filter((f) => f.from === "server")).toHaveLength(3);
    for (const frame of data) {
      expect(frame.length).toBeGreaterThan(0);
      expect(frame.flags & END_STREAM).toBe(END_STREAM);
    }
  });

  it("sends a request and an answer larger than HTTP/2's flow-control window whole, the last frame ending each", async () => {
    const client = createClient(PingService, createServiceTransport(recorder.url));
    const payload = "x".repeat(800 * 1024);
    expect((await client.ping({ payload })).payload).toHaveLength(payload.length);
    for (const from of ["client", "server"] as const) {
      const frames = recorder.data().filter((f) => f.from === from);
      expect(frames.length).toBeGreaterThan(1);
      expect(frames.every((f) => f.length > 0)).toBe(true);
      expect(frames.map((f) => f.flags & END_STREAM)).toEqual([...frames.slice(1).map(() => 0), END_STREAM]);
    }
  });

  it("ends an error answer with its body too, and the caller reads the error", async () => {
    const client = createClient(PingService, createServiceTransport(recorder.url));
    const err = await client.ping({ payload: "refuse" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.FailedPrecondition, rawMessage: "refused on purpose" });
    const answers = recorder.data().filter((f) => f.from === "server");
    expect(answers).toHaveLength(1);
    expect(answers[0]?.flags).toBe(END_STREAM);
  });

  it("leaves a stock gRPC client's call as it was: the answer still ends with its trailers", async () => {
    const grpc = grpcClient(recorder.port);
    try {
      const answer = await unary(grpc, PingService.method.ping, { payload: "grpc" });
      expect(answer.message.payload).toBe("GRPC");
    } finally {
      grpc.close();
    }
    const fromServer = recorder.frames.filter((f) => f.from === "server" && f.stream > 0);
    // gRPC ends an answer with a HEADERS frame of trailers, never with its DATA.
    expect(fromServer.at(-1)?.type).toBe(HEADERS);
    expect((fromServer.at(-1)?.flags ?? 0) & END_STREAM).toBe(END_STREAM);
    expect(recorder.data().filter((f) => f.from === "server" && f.flags & END_STREAM)).toHaveLength(0);
  });
});
