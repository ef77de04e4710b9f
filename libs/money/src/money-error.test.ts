import { describe, expect, it } from "vitest";
import { isMoneyError, MoneyError } from "./money-error.js";

describe("MoneyError", () => {
  it("carries name, reason, field and cause", () => {
    const cause = new Error("root");
    const error = new MoneyError("INVALID_AMOUNT", "bad amount", { cause, field: "amount" });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("MoneyError");
    expect(error.reason).toBe("INVALID_AMOUNT");
    expect(error.field).toBe("amount");
    expect(error.cause).toBe(cause);
    expect(error.message).toBe("bad amount");
  });

  it("leaves field and cause unset when not given", () => {
    const error = new MoneyError("INVALID_RATE", "bad rate");
    expect(error.field).toBeUndefined();
    expect("cause" in error).toBe(false);
  });
});

describe("isMoneyError", () => {
  it("recognises MoneyError and look-alikes from another copy of the package by name", () => {
    expect(isMoneyError(new MoneyError("UNKNOWN_CURRENCY", "x"))).toBe(true);
    const foreign = Object.assign(new Error("x"), { name: "MoneyError", reason: "TOO_MANY_DECIMALS" });
    expect(isMoneyError(foreign)).toBe(true);
  });

  it("rejects other errors and non-errors", () => {
    expect(isMoneyError(new Error("x"))).toBe(false);
    expect(isMoneyError(Object.assign(new Error("x"), { name: "MoneyError", reason: "NOPE" }))).toBe(false);
    expect(isMoneyError({ name: "MoneyError" })).toBe(false);
    expect(isMoneyError(null)).toBe(false);
    expect(isMoneyError("MoneyError")).toBe(false);
  });
});
