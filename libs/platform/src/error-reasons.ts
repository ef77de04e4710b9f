import { ErrorReason as ErrorReasonEnum } from "@fintech/proto/fintech/api/v1/errors_pb.js";

/**
 * Every error reason of the platform: the catalog in proto/fintech/api/v1/errors.proto, named as
 * google.rpc.ErrorInfo `reason` and the REST error body's `error` name them ("INSUFFICIENT_BALANCE").
 */
export type ErrorReason = Exclude<keyof typeof ErrorReasonEnum, "UNSPECIFIED">;

/**
 * The reasons one service or library gives, as a union of catalog names: `Reasons<"NOT_FOUND" | "CONFLICT">`.
 * A name missing from the catalog does not compile, so every reason a client can see is in the catalog.
 */
export type Reasons<R extends ErrorReason> = R;

const names = new Set<string>(
  Object.keys(ErrorReasonEnum).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED"),
);

/** True when `reason` is in the catalog (a reason from another version of a service may not be). */
export const isErrorReason = (reason: string): reason is ErrorReason => names.has(reason);
