import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@fintech/proto/google/rpc/error_details_pb.js";
import { expect } from "vitest";

/**
 * Asserts that `call` fails with the Connect `code` and a google.rpc.ErrorInfo whose reason is `reason` and
 * whose metadata includes `metadata`; returns the error for further checks.
 */
export async function expectRefusal(
  call: Promise<unknown>,
  code: Code,
  reason: string,
  metadata: Record<string, string> = {},
): Promise<ConnectError> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  const ce = err as ConnectError;
  // Compared by name, so a failure reads "NotFound" rather than 5.
  expect(Code[ce.code]).toBe(Code[code]);
  const [info] = ce.findDetails(ErrorInfoSchema);
  expect(info?.reason).toBe(reason);
  expect(info?.metadata).toMatchObject(metadata);
  return ce;
}
