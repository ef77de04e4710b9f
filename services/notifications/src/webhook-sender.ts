import type { LookupAddress } from "node:dns";
import { lookup as dnsLookup } from "node:dns";
import type { IncomingMessage } from "node:http";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import type { TargetPolicy } from "./target-policy.js";

/** How much of an answer's body is read before the connection is dropped: 4 KiB. */
export const RESPONSE_LIMIT_BYTES = 4096;

/** What one POST to an endpoint came to: the status it answered, or why there was none. */
export interface SendResult {
  /** The HTTP status, when an answer came. */
  status?: number;
  /** Why no answer came (refused target, connection error, timeout); "" when one came. */
  error: string;
  durationMs: number;
}

/** POSTs a webhook body to an endpoint; see {@link createWebhookSender}. */
export type WebhookSender = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<SendResult>;

class RefusedTarget extends Error {
  override readonly name = "RefusedTarget";
}

/**
 * A sender that POSTs JSON on a fresh connection and never follows a redirect (a 3xx is an answer like any
 * other). The address it connects to is checked against `targets` every time: every address a name resolves to
 * (a custom `lookup`), an IP literal before connecting, and the socket's remote address once connected, so DNS
 * that changes after registration cannot aim a delivery at an internal address. At most
 * {@link RESPONSE_LIMIT_BYTES} of the answer are read, and a delivery without an answer after `timeoutMs` ends.
 */
export function createWebhookSender(opts: { targets: TargetPolicy; timeoutMs: number }): WebhookSender {
  const { targets, timeoutMs } = opts;
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { family: options.family ?? 0, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, "", 0);
        return;
      }
      const refused = addresses.find((a) => !targets.allowsAddress(a.address));
      const [first] = addresses;
      if (refused !== undefined || first === undefined) {
        callback(new RefusedTarget(`${hostname} resolves to an address webhooks are not sent to`), "", 0);
        return;
      }
      if (options.all === true) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };

  return (text, headers, body) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = new URL(text);
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    if (isIP(host) !== 0 && !targets.allowsAddress(host)) {
      return Promise.resolve({
        error: "refused: the address is one webhooks are not sent to",
        durationMs: 0,
      });
    }
    return new Promise<SendResult>((resolve) => {
      let done = false;
      const finish = (r: { status?: number; error: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve({ ...r, durationMs: elapsed() });
      };
      const onAnswer = (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > RESPONSE_LIMIT_BYTES) res.destroy();
        });
        res.on("end", () => finish({ status, error: "" }));
        res.on("close", () => finish({ status, error: "" }));
        res.on("error", () => finish({ status, error: "" }));
      };
      const request = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: "POST",
          agent: false,
          lookup,
          headers: {
            ...headers,
            "content-type": "application/json",
            "content-length": String(Buffer.byteLength(body)),
            "user-agent": "fintech-webhooks/1",
          },
        },
        onAnswer,
      );
      request.on("socket", (socket) => {
        socket.once("connect", () => {
          const address = socket.remoteAddress;
          if (address === undefined || !targets.allowsAddress(address)) {
            request.destroy(new RefusedTarget("connected to an address webhooks are not sent to"));
          }
        });
      });
      request.on("error", (err) => finish({ error: describe(err) }));
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.end(body);
    });
  };
}

/** A failure in words for the owner's attempt list: no stack, no headers. */
function describe(err: Error): string {
  if (err instanceof RefusedTarget) return `refused: ${err.message}`;
  const code = (err as NodeJS.ErrnoException).code;
  return code === undefined ? err.message : `${code}: ${err.message}`;
}
