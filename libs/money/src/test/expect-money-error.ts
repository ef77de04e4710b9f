import { expect } from "vitest";
import type { MoneyErrorReason } from "../money-error.js";
import { isMoneyError } from "../money-error.js";

/** Runs `fn` and asserts it throws a MoneyError with `reason` (and `field`, when given). */
export function expectMoneyError(fn: () => unknown, reason: MoneyErrorReason, field?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isMoneyError(caught), `expected a MoneyError ${reason}, got ${String(caught)}`).toBe(true);
  if (!isMoneyError(caught)) return;
  expect(caught.reason).toBe(reason);
  if (field !== undefined) expect(caught.field).toBe(field);
}
