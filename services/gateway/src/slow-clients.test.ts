import { connect } from "node:net";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { gatewayTest } from "./test/harness.js";

// Slow clients against a real socket: each test writes its request a few bytes at a time, the way a slowloris
// attack or a stalled upload does, and watches what the gateway does with the connection.
const HEADERS_TIMEOUT_MS = 800;
const REQUEST_TIMEOUT_MS = 2_000;
const KEEP_ALIVE_TIMEOUT_MS = 1_000;
const test = gatewayTest({
  RATE_LIMIT_RPS: "10000",
  RATE_LIMIT_BURST: "10000",
  HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
  REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
});

interface Outcome {
  /** What the gateway wrote back before the connection closed. */
  answer: string;
  /** From the first byte sent to the close, in ms. */
  closedAfterMs: number;
  /** How many of the parts were written before the gateway closed the connection. */
  written: number;
}

/**
 * Opens a TCP connection to `url` and writes `parts` one every `everyMs` ms, until they are all written or the
 * gateway closes the connection; resolves when it is closed (or rejects after `giveUpMs`).
 */
function trickle(url: string, parts: string[], everyMs: number, giveUpMs = 20_000): Promise<Outcome> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const started = Date.now();
    let answer = "";
    let written = 0;
    const timer = setInterval(() => {
      const part = parts[written];
      if (part === undefined || socket.destroyed) return;
      socket.write(part);
      written++;
    }, everyMs);
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the connection was still open after ${giveUpMs} ms: ${JSON.stringify(answer)}`));
    }, giveUpMs);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      resolve({ answer, closedAfterMs: Date.now() - started, written });
    });
  });
}

describe("slow clients", () => {
  test("headers trickled slower than HEADERS_TIMEOUT_MS get 408 and the connection is closed", async ({
    gw,
  }) => {
    const request = `GET /api/v1/fx/currencies HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(200)}\r\n\r\n`;
    const parts = [...request];
    const out = await trickle(gw.url, parts, 20);
    expect(out.answer).toMatch(/^HTTP\/1\.1 408 /);
    // Cut off long before the last byte would have come (Node's default would wait 60 s).
    expect(out.written).toBeLessThan(parts.length);
    expect(out.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
  });

  test("a body trickled past REQUEST_TIMEOUT_MS gets 408 and the connection is closed", async ({ gw }) => {
    const token = await gw.signer.token();
    const body = JSON.stringify({ from_currency: "USD", to_currency: "MYR", amount: "1.00" }).padEnd(400);
    const head =
      "POST /api/v1/fx/quotes HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n" +
      `authorization: Bearer ${token}\r\ncontent-length: ${body.length}\r\n\r\n`;
    const parts = [head, ...Array.from({ length: body.length / 4 }, (_, i) => body.slice(i * 4, i * 4 + 4))];
    const out = await trickle(gw.url, parts, 50);
    expect(out.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(out.written).toBeLessThan(parts.length);
    // Node's default would wait 300 s for the body.
    expect(out.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    // A dropped slow client is not an internal error: no error line (with a stack) per attacker connection.
    await waitFor(() => gw.logs().includes("client connection closed before the answer"));
    expect(gw.logs()).not.toContain('"level":"error"');
  });

  test("a client that sends its request in time is answered, and an idle keep-alive connection is closed", async ({
    gw,
  }) => {
    const token = await gw.signer.token();
    const out = await trickle(
      gw.url,
      [`GET /api/v1/fx/currencies HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${token}\r\n\r\n`],
      10,
    );
    expect(out.answer).toMatch(/^HTTP\/1\.1 200 /);
    // The connection was kept alive after the answer, then closed for being idle.
    expect(out.closedAfterMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS);
    expect(out.closedAfterMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + 3_000);
  });
});
