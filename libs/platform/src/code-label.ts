import { Code, ConnectError } from "@connectrpc/connect";

// gRPC's canonical Go-style names ("OK", "NotFound", ...), as go-grpc-prometheus and most dashboards expect.
// Precomputed so labelling a finished RPC allocates nothing.
const labels: readonly string[] = Array.from(
  { length: 17 },
  (_, code) => (code === 0 ? "OK" : Code[code]) ?? "Unknown",
);

/** The label for a status code; 0 is success ("OK"). */
export function codeLabel(code: Code | 0): string {
  return labels[code] ?? "Unknown";
}

/** The code an error will go out with (anything that is not a ConnectError becomes Unknown, as connect does). */
export function codeOf(err: unknown): Code {
  return err instanceof ConnectError ? err.code : Code.Unknown;
}
