/**
 * Whether a call failed because the server refused its HTTP/2 stream (REFUSED_STREAM: it crossed the server's
 * GOAWAY, and HTTP/2 guarantees the server did not process it), so sending it again is safe. Node reports it as
 * ERR_HTTP2_STREAM_ERROR "... NGHTTP2_REFUSED_STREAM", connect-node's own mapping of the reset code as
 * "... REFUSED_STREAM (0x7)"; either may be the error or its cause.
 */
export function wasRefusedStream(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.message.includes("REFUSED_STREAM")) return true;
  }
  return false;
}
