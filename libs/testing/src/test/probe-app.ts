// A stand-in for a service's build(): one authenticated RPC (Ping answers with who called) on the platform's
// bootstrap, started and stopped as every service's app is.

import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, getPrincipal } from "@fintech/auth";
import { createServer } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { Logger } from "pino";

export function probeApp(deps: { logger: Logger; authenticator: Authenticator }) {
  const server = createServer({
    name: "probe",
    logger: deps.logger,
    routes: (router) =>
      router.service(PingService, {
        ping: (_req, ctx) => {
          const p = getPrincipal(ctx);
          return { payload: p === undefined ? "anonymous" : p.kind === "user" ? p.userId : p.service };
        },
      }),
    interceptors: [createAuthInterceptor({ authenticator: deps.authenticator })],
  });
  return {
    start: (listen: { port: number; host: string }) => server.listen(listen),
    stop: () => server.close({ graceMs: 0 }),
  };
}
