import { Code } from "@connectrpc/connect";
import { MoneyError, parseAmount } from "@fintech/money";
import { describe, expect, it } from "vitest";
import { defineDomainErrors } from "./domain-errors.js";
import { errorInfoOf } from "./errors.js";

const shop = defineDomainErrors("shop", {
  VALIDATION_ERROR: Code.InvalidArgument,
  INSUFFICIENT_BALANCE: Code.FailedPrecondition,
  QUOTE_NOT_FOUND: Code.NotFound,
});

describe("defineDomainErrors", () => {
  it("names the class after the context and keeps reason, details and cause", () => {
    const cause = new Error("row locked");
    const err = new shop.DomainError("INSUFFICIENT_BALANCE", "only 2 left", { available: "2" }, { cause });
    expect(shop.name).toBe("ShopError");
    expect(err.name).toBe("ShopError");
    expect(err.constructor.name).toBe("ShopError");
    expect(err.reason).toBe("INSUFFICIENT_BALANCE");
    expect(err.message).toBe("only 2 left");
    expect(err.details).toEqual({ available: "2" });
    expect(err.cause).toBe(cause);
    expect(new shop.DomainError("QUOTE_NOT_FOUND", "no basket").details).toEqual({});
    // A reason the catalog (proto/fintech/api/v1/errors.proto) lacks does not type-check.
    // @ts-expect-error OUT_OF_STOCK is not in the catalog
    expect(defineDomainErrors("shop", { OUT_OF_STOCK: Code.FailedPrecondition }).name).toBe("ShopError");
  });

  it("recognises its errors by name, also from a second copy, and nothing else", () => {
    const copy = defineDomainErrors("shop", { VALIDATION_ERROR: Code.InvalidArgument });
    const other = defineDomainErrors("till", { VALIDATION_ERROR: Code.InvalidArgument });
    expect(shop.is(new copy.DomainError("VALIDATION_ERROR", "bad"))).toBe(true);
    expect(shop.is(new other.DomainError("VALIDATION_ERROR", "bad"))).toBe(false);
    expect(shop.is(new Error("plain"))).toBe(false);
    expect(shop.is({ name: "ShopError", reason: "INSUFFICIENT_BALANCE" })).toBe(false);
  });

  it("maps each reason to its code with an ErrorInfo of reason and details", () => {
    const err = shop.toConnectError(
      new shop.DomainError("INSUFFICIENT_BALANCE", "only 2 left", { available: "2" }),
    );
    expect(err?.code).toBe(Code.FailedPrecondition);
    expect(err?.rawMessage).toBe("only 2 left");
    expect(err && errorInfoOf(err)).toEqual({
      reason: "INSUFFICIENT_BALANCE",
      domain: "fintech",
      metadata: { available: "2" },
    });
    expect(shop.toConnectError(new shop.DomainError("QUOTE_NOT_FOUND", "no basket"))?.code).toBe(
      Code.NotFound,
    );
  });

  it("answers a money refusal as VALIDATION_ERROR naming the money reason and field", () => {
    let thrown: unknown;
    try {
      parseAmount("1.234", "MYR");
    } catch (e) {
      thrown = e;
    }
    const err = shop.toConnectError(thrown);
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err && errorInfoOf(err)).toEqual({
      reason: "VALIDATION_ERROR",
      domain: "fintech",
      metadata: { money_reason: "TOO_MANY_DECIMALS", field: "amount" },
    });
    const noField = shop.toConnectError(new MoneyError("INVALID_RATE", "bad rate"));
    expect(noField && errorInfoOf(noField)?.metadata).toEqual({ money_reason: "INVALID_RATE" });
  });

  it("leaves any other error to the server's interceptor", () => {
    expect(shop.toConnectError(new Error("boom"))).toBeUndefined();
    expect(shop.toConnectError("text")).toBeUndefined();
  });
});
