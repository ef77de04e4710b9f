// Loaded with `--import` into a process of the platform under benchmark (the gateway's, or the one process
// of every service): a do-nothing PingService on libs/platform's createServer, the bootstrap every service
// uses, with its interceptors and logging at the process's LOG_LEVEL, on 127.0.0.1:BENCH_PING_PORT. Calls to it
// measure what the bootstrap and the process cost per call with no work behind them.
import { createLogger, createServer } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";

const port = Number(process.env.BENCH_PING_PORT);
if (!Number.isInteger(port) || port <= 0) throw new Error("BENCH_PING_PORT must name a port");
const ping = createServer({
  name: "ping",
  logger: createLogger({ name: "ping", level: process.env.LOG_LEVEL }),
  routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
  reflection: false,
});
await ping.listen({ host: "127.0.0.1", port });
// The platform's own shutdown ends the process; the ping server goes with it.
