import type { ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createTargetPolicy } from "./target-policy.js";
import { createWebhookSender, RESPONSE_LIMIT_BYTES } from "./webhook-sender.js";

/** A loopback server answering every request with `handle`; counts the requests. */
async function serve(handle: (res: ServerResponse) => void) {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    req.on("end", () => handle(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    requests: () => requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const open = createTargetPolicy({ allowHttp: true, allowPrivate: true });
const guarded = createTargetPolicy({ allowHttp: true, allowPrivate: false });

describe("the webhook sender", () => {
  it("checks the address it connects to at every delivery: a loopback target is refused by IP and by name", async () => {
    const server = await serve((res) => res.writeHead(200).end());
    try {
      const send = createWebhookSender({ targets: guarded, timeoutMs: 5_000 });
      // What was registered may resolve elsewhere now (DNS rebinding): the name is looked up and checked again.
      for (const host of ["127.0.0.1", "localhost"]) {
        const result = await send(`http://${host}:${server.port}/hook`, {}, "{}");
        expect(result.status, host).toBeUndefined();
        expect(result.error, host).toMatch(/^refused: /);
      }
      expect(server.requests()).toBe(0);
      // Where private targets are allowed, the same receiver gets it.
      const allowed = await createWebhookSender({ targets: open, timeoutMs: 5_000 })(
        `http://localhost:${server.port}/hook`,
        {},
        "{}",
      );
      expect(allowed).toMatchObject({ status: 200, error: "" });
      expect(server.requests()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("does not follow a redirect, reads only the start of a long answer and gives up on a silent receiver", async () => {
    const redirect = await serve((res) => res.writeHead(302, { location: "http://169.254.169.254/" }).end());
    const chatty = await serve((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("x".repeat(RESPONSE_LIMIT_BYTES * 256));
    });
    const silent = await serve(() => undefined);
    try {
      const send = createWebhookSender({ targets: open, timeoutMs: 300 });
      expect(await send(`http://127.0.0.1:${redirect.port}/`, {}, "{}")).toMatchObject({ status: 302 });
      expect(redirect.requests()).toBe(1);
      expect(await send(`http://127.0.0.1:${chatty.port}/`, {}, "{}")).toMatchObject({
        status: 200,
        error: "",
      });
      const timedOut = await send(`http://127.0.0.1:${silent.port}/`, {}, "{}");
      expect(timedOut.status).toBeUndefined();
      expect(timedOut.error).toMatch(/no answer within 300 ms/);
    } finally {
      await Promise.all([redirect.close(), chatty.close(), silent.close()]);
    }
  });
});
