import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { vi } from "vitest";

/** One request a receiver got. */
export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (undefined while it holds the request). */
  status: number | undefined;
}

/** A webhook receiver on loopback; see {@link startReceiver}. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Verifies a request with the stock Standard Webhooks library as a receiver would at `now`; throws if bad. */
  verify(r: Received, secret: string, now: Date): unknown;
  /** Answers every request held so far (a hold-forever receiver) and closes. */
  close(): Promise<void>;
}

/**
 * An HTTP receiver on 127.0.0.1 that records every request and answers each with `answer(n)` for the n-th
 * request (0-based): a status, or "hold" to never answer (until close()).
 */
export async function startReceiver(answer: (n: number) => number | "hold" = () => 204): Promise<Receiver> {
  const received: Received[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const entry: Received = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        status: undefined,
      };
      const status = answer(received.length);
      received.push(entry);
      if (status === "hold") {
        held.push(res);
        return;
      }
      entry.status = status;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    verify(r, secret, now) {
      // The library checks the timestamp against its own clock (5 minutes either way): show it the time the
      // service's clock says, for that one synchronous call.
      vi.useFakeTimers({ toFake: ["Date"], now });
      try {
        return new Webhook(secret).verify(r.body, {
          "webhook-id": String(r.headers["webhook-id"]),
          "webhook-timestamp": String(r.headers["webhook-timestamp"]),
          "webhook-signature": String(r.headers["webhook-signature"]),
        });
      } finally {
        vi.useRealTimers();
      }
    },
    async close() {
      for (const res of held) res.writeHead(503).end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
