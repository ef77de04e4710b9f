import { fromBinary } from "@bufbuild/protobuf";
import { ErrorInfoSchema } from "@fintech/proto/google/rpc/error_details_pb.js";
import { StatusSchema } from "@fintech/proto/google/rpc/status_pb.js";
import type { ServiceError } from "@grpc/grpc-js";

/**
 * The google.rpc.ErrorInfo a server sent with a gRPC error (in the `grpc-status-details-bin` trailer), as a
 * stock grpc-js client receives it; undefined when there is none.
 */
export function grpcErrorInfo(
  err: ServiceError,
): { reason: string; domain: string; metadata: Record<string, string> } | undefined {
  const [bin] = err.metadata?.get("grpc-status-details-bin") ?? [];
  if (!(bin instanceof Buffer)) return undefined;
  const status = fromBinary(StatusSchema, bin);
  const any = status.details.find((d) => d.typeUrl.endsWith(`/${ErrorInfoSchema.typeName}`));
  if (any === undefined) return undefined;
  const info = fromBinary(ErrorInfoSchema, any.value);
  return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
}
