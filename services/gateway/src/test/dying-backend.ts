// An fx backend in a process of its own, for backend-failures.test.ts: ListCurrencies prints "handling" and never
// answers, so the parent can SIGKILL the process in the middle of a request. Prints "port <n>" once it serves.

import { createServer } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import pino from "pino";

const server = createServer({
  name: "fx",
  logger: pino({ level: "silent" }),
  routes: (router) =>
    router.service(FxService, {
      listCurrencies: () => {
        process.stdout.write("handling\n");
        return new Promise(() => {});
      },
    }),
});
const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`port ${port}\n`);
