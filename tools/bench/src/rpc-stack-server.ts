// The server half of the RPC-stack benchmark: PingService on one of three stacks, in its own process so its CPU
// is its own. argv[2] picks the stack:
//   platform  libs/platform's createServer (connect-node on h2c, with the trace, request-id, logging, metrics and
//             error-mapping interceptors every service runs; logging at info as in production)
//   connect   connect-node's adapter on h2c with nothing added
//   grpc-js   @grpc/grpc-js's server with protobuf-es (de)serializers
// Sends its port over IPC; answers "cpu" with its CPU microseconds so far.
import { createServer as createH2Server } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createLogger, createServer } from "@fintech/platform";
import type { PingRequest, PingResponse } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import {
  PingRequestSchema,
  PingResponseSchema,
  PingService,
} from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import * as grpc from "@grpc/grpc-js";

const stack = process.argv[2];
const echo = (req: { payload: string }) => ({ payload: req.payload });

async function listen(): Promise<number> {
  if (stack === "platform") {
    const server = createServer({
      name: "ping",
      logger: createLogger({ name: "bench", level: process.env.BENCH_LOG_LEVEL ?? "info" }),
      routes: (router) => router.service(PingService, { ping: echo }),
    });
    return (await server.listen({ port: 0, host: "127.0.0.1" })).port;
  }
  if (stack === "connect") {
    const server = createH2Server(
      connectNodeAdapter({ routes: (router) => router.service(PingService, { ping: echo }) }),
    );
    return new Promise((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address !== null ? address.port : 0);
      }),
    );
  }
  if (stack === "grpc-js") {
    const server = new grpc.Server();
    const definition: grpc.ServiceDefinition = {
      ping: {
        path: "/fintech.platform.v1.PingService/Ping",
        requestStream: false,
        responseStream: false,
        requestSerialize: (m: PingRequest) => Buffer.from(toBinary(PingRequestSchema, m)),
        requestDeserialize: (b: Buffer) => fromBinary(PingRequestSchema, b),
        responseSerialize: (m: PingResponse) => Buffer.from(toBinary(PingResponseSchema, m)),
        responseDeserialize: (b: Buffer) => fromBinary(PingResponseSchema, b),
      },
    };
    server.addService(definition, {
      ping: (
        call: grpc.ServerUnaryCall<PingRequest, PingResponse>,
        callback: grpc.sendUnaryData<PingResponse>,
      ) => callback(null, create(PingResponseSchema, echo(call.request))),
    });
    return new Promise((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
  }
  throw new Error(`unknown stack ${stack}`);
}

const port = await listen();
process.on("message", (m) => {
  if (m !== "cpu") return;
  const cpu = process.cpuUsage();
  process.send?.({ cpuMicros: cpu.user + cpu.system });
});
// A normal exit, so that --cpu-prof writes the profile.
process.on("SIGTERM", () => process.exit(0));
process.send?.({ port });
