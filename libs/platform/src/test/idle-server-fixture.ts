// A process for idle-wakes.test.ts: `node --import tsx idle-server-fixture.ts`. One server with its metrics port,
// listening and serving nothing; it prints "listening" and runs until it is killed.
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { createLogger } from "../logger.js";
import { createServer } from "../server.js";

const server = createServer({
  name: "idle",
  logger: createLogger({ name: "idle", level: "warn" }),
  files: [],
  metricsPort: 0,
  routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
});
await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write("listening\n");
