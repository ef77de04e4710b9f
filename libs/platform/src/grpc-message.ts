import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";

type Handler = (req: Http2ServerRequest, res: Http2ServerResponse) => void;

const GRPC_MESSAGE = "grpc-message";

/**
 * Wraps an HTTP/2 handler so that the `grpc-message` trailer of a gRPC error is percent-encoded as the gRPC spec
 * says: only `%` and bytes outside printable ASCII (0x20-0x7E) as `%XX` of their UTF-8 bytes.
 *
 * connect-node encodes it with encodeURIComponent, which also escapes `:`, `;`, `,`, `/`, `?`, `=`, `&`, `+`,
 * `@`, `$` and `#`. @grpc/grpc-js clients decode it with decodeURI, which leaves exactly those escaped, so they
 * read "invalid request%3A base%3A ..." where the server said "invalid request: base: ...". The spec's encoding
 * reads back whole with decodeURI (grpc-js), decodeURIComponent (Connect) and a spec decoder (grpc-go, grpc-java,
 * grpcurl) alike. Trailers other than `grpc-message` pass untouched; gRPC-Web and Connect send no such trailer.
 */
export function withSpecGrpcMessage(handler: Handler): Handler {
  return (req, res) => {
    const addTrailers = res.addTrailers.bind(res);
    res.addTrailers = (trailers: OutgoingHttpHeaders): void => {
      const message = trailers[GRPC_MESSAGE];
      addTrailers(
        typeof message === "string" ? { ...trailers, [GRPC_MESSAGE]: reencode(message) } : trailers,
      );
    };
    handler(req, res);
  };
}

/** `message` percent-encoded as the gRPC spec's Status-Message: `%` and bytes outside 0x20-0x7E as `%XX`. */
export function percentEncodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of Buffer.from(message, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** connect-node's encodeURIComponent form turned into the spec's; a value it cannot decode is sent as it came. */
function reencode(encoded: string): string {
  let message: string;
  try {
    message = decodeURIComponent(encoded);
  } catch {
    // Not connect-node's encoding (it always decodes): nothing better to send than what the handler set.
    return encoded;
  }
  return percentEncodeGrpcMessage(message);
}
