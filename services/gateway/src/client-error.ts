import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import type { ErrorReason } from "@fintech/platform";

interface Refusal {
  status: string;
  error: ErrorReason;
  message: string;
  details: Record<string, string>;
}

// Node's own answers to the same failures (its default clientError handling), with docs/api.md's body.
function refusalOf(code: string | undefined): Refusal {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      return {
        status: "431 Request Header Fields Too Large",
        error: "HEADERS_TOO_LARGE",
        message: "the request line and headers are over the 16 KiB limit",
        details: {},
      };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        status: "408 Request Timeout",
        error: "REQUEST_TIMEOUT",
        message: "the request was not received in time",
        details: {},
      };
    default:
      return {
        status: "400 Bad Request",
        error: "VALIDATION_ERROR",
        message: "the request is not valid HTTP/1.1",
        details: { field: "request" },
      };
  }
}

/**
 * Answers a request Node's HTTP server refused before the gateway saw it (request line and headers over
 * Node's 16 KiB limit, a client too slow to send them, malformed HTTP) with the same error body and
 * X-Request-Id as every other failure, instead of Node's bare status line: 431 HEADERS_TOO_LARGE,
 * 408 REQUEST_TIMEOUT or 400 VALIDATION_ERROR. Install it as the server's `clientError` listener; the
 * connection is closed after the answer, and left alone when an answer has already started.
 */
export function answerClientError(now: () => Date) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    const written = (socket as Duplex & { bytesWritten?: number }).bytesWritten ?? 0;
    if (!socket.writable || written > 0 || err.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const refusal = refusalOf(err.code);
    const requestId = randomUUID();
    const body = JSON.stringify({
      error: refusal.error,
      message: refusal.message,
      details: refusal.details,
      request_id: requestId,
      timestamp: now().toISOString(),
      // The parser stopped before the path was known.
      path: "",
    });
    socket.end(
      `HTTP/1.1 ${refusal.status}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n\r\n${body}`,
    );
  };
}
