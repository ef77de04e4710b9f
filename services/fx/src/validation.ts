import { findCurrency, isMoneyError, parseAmount, parseRate } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation, pageSizeIssues } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";

// The fx service's request rules, in one place at the RPC edge: handlers may assume every code is a
// known ISO 4217 currency (any case; routes upper-case it) and every amount and rate parses.

const CODE = /^[A-Za-z]{3}$/;

function currencyCode(field: string, value: string, opts: { optional?: boolean } = {}): ValidationIssue[] {
  if (value === "" && opts.optional) return [];
  if (!CODE.test(value) || !findCurrency(value.toUpperCase())) {
    return [{ field, message: "must be an ISO 4217 currency code such as MYR" }];
  }
  return [];
}

function pair(aField: string, a: string, bField: string, b: string): ValidationIssue[] {
  const issues = [...currencyCode(aField, a), ...currencyCode(bField, b)];
  if (issues.length === 0 && a.toUpperCase() === b.toUpperCase()) {
    issues.push({ field: bField, message: `must differ from ${aField}` });
  }
  return issues;
}

function positiveAmount(field: string, value: string, code: string): ValidationIssue[] {
  if (!CODE.test(code) || !findCurrency(code.toUpperCase())) return []; // reported on the currency field
  try {
    if (parseAmount(value, code.toUpperCase()) > 0n) return [];
    return [{ field, message: "must be greater than zero" }];
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    return [{ field, message: err.message }];
  }
}

function rate(field: string, value: string): ValidationIssue[] {
  try {
    parseRate(value);
    return [];
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    return [{ field, message: "must be a positive decimal with at most 12 decimals" }];
  }
}

export const fxValidation = defineValidation(FxService, {
  listRates: (r) => currencyCode("base", r.base, { optional: true }),
  getRate: (r) => pair("base", r.base, "quote", r.quote),
  listRateHistory: (r) => [...pair("base", r.base, "quote", r.quote), ...pageSizeIssues(r.limit)],
  setRate: (r) => [...pair("base", r.base, "quote", r.quote), ...rate("rate", r.rate)],
  createQuote: (r) => [
    ...pair("from_currency", r.fromCurrency, "to_currency", r.toCurrency),
    ...positiveAmount("amount", r.amount, r.fromCurrency),
    ...(r.forUserId === "" || UUID.test(r.forUserId)
      ? []
      : [{ field: "for_user_id", message: "must be a user id (a UUID)" }]),
  ],
  getQuote: (r) => quoteId(r.quoteId),
  redeemQuote: (r) => quoteId(r.quoteId),
  convert: (r) => [
    ...currencyCode("from_currency", r.fromCurrency),
    ...currencyCode("to_currency", r.toCurrency),
    ...positiveAmount("amount", r.amount, r.fromCurrency),
  ],
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function quoteId(value: string): ValidationIssue[] {
  return UUID.test(value) ? [] : [{ field: "quote_id", message: "must be a quote id (a UUID)" }];
}
