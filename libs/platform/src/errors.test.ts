import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { connectError, errorInfoOf } from "./errors.js";

describe("connectError", () => {
  it("carries an ErrorInfo with reason, domain and metadata", () => {
    const err = connectError(Code.FailedPrecondition, "INSUFFICIENT_BALANCE", "not enough", {
      available: "1.00",
    });
    expect(err).toBeInstanceOf(ConnectError);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe("not enough");
    expect(errorInfoOf(err)).toEqual({
      reason: "INSUFFICIENT_BALANCE",
      domain: "fintech",
      metadata: { available: "1.00" },
    });
  });

  it("keeps an explicit domain and the cause", () => {
    const cause = new Error("root");
    const err = connectError(Code.NotFound, "WALLET_NOT_FOUND", "no wallet", {}, { domain: "wallet", cause });
    expect(errorInfoOf(err)?.domain).toBe("wallet");
    expect(err.cause).toBe(cause);
  });

  it("finds nothing on an error without ErrorInfo", () => {
    expect(errorInfoOf(new ConnectError("plain", Code.Internal))).toBeUndefined();
  });
});
