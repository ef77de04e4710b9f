import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { grpcClient, unary } from "@fintech/testing";
import type { Client, ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentEncodeGrpcMessage } from "./grpc-message.js";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";

// Every character encodeURIComponent escapes and decodeURI does not unescape, a literal escape, a percent sign,
// non-ASCII text, a line break and an emoji (four UTF-8 bytes).
const MESSAGE = "invalid request: base: must be ; , / ? = & + @ $ # %3A 100% café\nnext 💸";

describe("percentEncodeGrpcMessage", () => {
  it("escapes only %, control characters and non-ASCII bytes, and reads back whole with either decoder", () => {
    const encoded = percentEncodeGrpcMessage(MESSAGE);
    expect(encoded).toBe(
      "invalid request: base: must be ; , / ? = & + @ $ # %253A 100%25 caf%C3%A9%0Anext %F0%9F%92%B8",
    );
    expect(decodeURI(encoded)).toBe(MESSAGE);
    expect(decodeURIComponent(encoded)).toBe(MESSAGE);
  });
});

describe("a gRPC error's message on the wire", () => {
  let server: PlatformServer;
  let url: string;
  let grpc: Client;

  beforeAll(async () => {
    server = createServer({
      name: "grpc-message-test",
      logger: createLogger({ name: "grpc-message-test", level: "silent" }),
      routes: (router) =>
        router.service(PingService, {
          ping(req) {
            throw new ConnectError(req.payload, Code.InvalidArgument);
          },
        }),
    });
    const listening = await server.listen({ host: "127.0.0.1", port: 0 });
    url = listening.url;
    grpc = grpcClient(listening.port);
  });

  afterAll(async () => {
    grpc.close();
    await server.close({ graceMs: 100 });
  });

  it("reads the same to a stock grpc-js client as the server wrote it", async () => {
    const err = await unary(grpc, PingService.method.ping, { payload: MESSAGE }).catch(
      (e: ServiceError) => e,
    );
    expect(err).toMatchObject({ code: Code.InvalidArgument, details: MESSAGE });
  });

  it("reads the same to a Connect gRPC client", async () => {
    const connect = createClient(PingService, createGrpcTransport({ baseUrl: url }));
    const err = await connect.ping({ payload: MESSAGE }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.InvalidArgument, rawMessage: MESSAGE });
  });
});
