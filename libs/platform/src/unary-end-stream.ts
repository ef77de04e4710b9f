// A Connect unary request or answer over HTTP/2 is one message: its body is one write. connect-node ends a request
// only after that write's callback, and Node's compatibility response (which servers answer through) waits for
// trailers before it ends, so the end of the stream went as an empty DATA frame of its own: a second write and a
// second TCP segment for every call in each direction, a second wake-up of a peer that was asleep, and a request
// the server could not finish reading until the client's event loop came round to the end, several milliseconds
// later under load. Node puts END_STREAM on the last DATA frame when the stream is ended in the same turn as its
// last write and waits for no trailers; these end it there. gRPC (trailers), gRPC-Web (a trailer frame after the
// message) and Connect streaming are left alone: their content types differ.
import type { OutgoingHttpHeaders } from "node:http";
import type { ClientHttp2Stream, Http2ServerRequest, Http2ServerResponse } from "node:http2";

function isConnectUnary(contentType: string | string[] | number | undefined): boolean {
  if (typeof contentType !== "string") return false;
  return contentType.startsWith("application/proto") || contentType.startsWith("application/json");
}

interface Writes {
  write(chunk: Uint8Array | string, ...rest: unknown[]): boolean;
  end(): unknown;
}

/** Ends `stream` right after its first write, in the same turn, so that the write carries END_STREAM. */
function endWithFirstWrite(stream: Writes): void {
  const write = stream.write;
  stream.write = function (this: Writes, ...args: Parameters<Writes["write"]>): boolean {
    stream.write = write;
    const flushed = write.apply(this, args);
    this.end();
    return flushed;
  };
}

/** A client's stream: a Connect unary request's message ends it. */
export function endUnaryRequest(stream: ClientHttp2Stream, headers: OutgoingHttpHeaders): void {
  if (isConnectUnary(headers["content-type"])) endWithFirstWrite(stream);
}

type Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

/**
 * Wraps an HTTP/2 handler: the answer to a Connect unary request ends with its message. Node's compatibility
 * response always asks its stream to wait for trailers (for `addTrailers`), and a stream that waits for them ends
 * with a frame of its own whatever it is sent; a Connect unary answer has none (connect-node sends its trailers as
 * `trailer-` headers), so its stream is told not to wait.
 */
export function withUnaryAnswersEnded(handler: Handler): Handler {
  return (req, res) => {
    if (req.method === "POST" && isConnectUnary(req.headers["content-type"])) {
      const stream = res.stream;
      const respond = stream.respond;
      stream.respond = (headers, options) =>
        respond.call(stream, headers, { ...options, waitForTrailers: false });
      endWithFirstWrite(res);
    }
    handler(req, res);
  };
}
