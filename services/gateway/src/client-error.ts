import { randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";

/**
 * Answers a request Node's HTTP parser refused before the gateway saw it (headers or URL over Node's
 * 16 KiB limit, malformed HTTP) with the same error body and X-Request-Id as every other failure, instead
 * of Node's bare status line: 431 HEADERS_TOO_LARGE or 400 VALIDATION_ERROR. Install it as the server's
 * `clientError` listener; the connection is closed after the answer.
 */
export function answerClientError(now: () => Date) {
  return (err: Error & { code?: string }, socket: Duplex): void => {
    if (!socket.writable || err.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const requestId = randomUUID();
    const body = JSON.stringify({
      error: tooLarge ? "HEADERS_TOO_LARGE" : "VALIDATION_ERROR",
      message: tooLarge
        ? "the request line and headers are over the 16 KiB limit"
        : "the request is not valid HTTP/1.1",
      details: tooLarge ? {} : { field: "request" },
      request_id: requestId,
      timestamp: now().toISOString(),
      // The parser stopped before the path was known.
      path: "",
    });
    const status = tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request";
    socket.end(
      `HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n\r\n${body}`,
    );
  };
}
