import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { findCurrency, isMoneyError, parseAmount } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation, pageSizeIssues } from "@fintech/platform";
import type { NewTransfer } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { AccountKind, LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { MAX_AMOUNT, MAX_BATCH_TRANSFERS } from "./model.js";

// The ledger's request rules, in one place at the RPC edge: handlers may assume ids are UUIDs, currencies are
// known ISO 4217 codes (any case), amounts parse in their currency, and flags and chains are well formed.
// Refusals that depend on stored state (funds, accounts, pending transfers) are the ledger's, not these.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE = /^[A-Za-z]{3}$/;
/** Codes are stored as Postgres integer. */
const MAX_CODE = 2 ** 31 - 1;
/** Most seconds a pending transfer may wait (about 68 years): keeps expires_at a valid date. */
const MAX_TIMEOUT_SECONDS = 2 ** 31 - 1;
const MAX_OWNER_REF = 128;
const MAX_REFERENCE = 256;
const MAX_DESCRIPTION = 1024;
const MAX_USER_DATA_ENTRIES = 32;
const MAX_USER_DATA_KEY = 64;
const MAX_USER_DATA_VALUE = 1024;
/** An account's transfers per page at most (other lists stop at MAX_PAGE_SIZE). */
const MAX_PAGE = 1000;

type Issues = ValidationIssue[];

function uuid(field: string, value: string, opts: { optional?: boolean } = {}): Issues {
  if (value === "" && opts.optional) return [];
  return UUID.test(value) ? [] : [{ field, message: "must be a UUID" }];
}

function currencyCode(field: string, value: string): Issues {
  return CODE.test(value) && findCurrency(value.toUpperCase())
    ? []
    : [{ field, message: "must be an ISO 4217 currency code such as MYR" }];
}

function positiveAmount(field: string, value: string, currency: string): Issues {
  if (!CODE.test(currency) || !findCurrency(currency.toUpperCase())) return []; // reported on the currency
  try {
    const minor = parseAmount(value, currency.toUpperCase());
    if (minor <= 0n) return [{ field, message: "must be greater than zero" }];
    if (minor > MAX_AMOUNT) return [{ field, message: "must be at most 2^63-1 minor units" }];
    return [];
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    return [{ field, message: err.message }];
  }
}

// google.protobuf.Timestamp's range: years 1 to 9999.
const MIN_SECONDS = -62_135_596_800n;
const MAX_SECONDS = 253_402_300_799n;

function timestamp(field: string, value: Timestamp | undefined): Issues {
  if (value === undefined) return [];
  const ok =
    value.seconds >= MIN_SECONDS && value.seconds <= MAX_SECONDS && value.nanos >= 0 && value.nanos < 1e9;
  return ok ? [] : [{ field, message: "must be a valid timestamp" }];
}

function code(field: string, value: number): Issues {
  return value > MAX_CODE ? [{ field, message: `must be at most ${MAX_CODE}` }] : [];
}

function maxLength(field: string, value: string, max: number): Issues {
  return value.length > max ? [{ field, message: `must be at most ${max} characters` }] : [];
}

function newTransfer(prefix: string, t: NewTransfer | undefined): Issues {
  if (t === undefined) return [{ field: prefix.replace(/\.$/, ""), message: "is required" }];
  const f = (name: string) => `${prefix}${name}`;
  const flags = t.flags;
  const phases = [flags?.pending, flags?.postPending, flags?.voidPending].filter(Boolean).length;
  const issues: Issues = [...uuid(f("id"), t.id), ...code(f("code"), t.code)];
  if (phases > 1) {
    issues.push({ field: f("flags"), message: "at most one of pending, post_pending and void_pending" });
  }
  if (flags?.postPending || flags?.voidPending) {
    issues.push(
      ...uuid(f("pending_id"), t.pendingId),
      ...uuid(f("debit_account_id"), t.debitAccountId, { optional: true }),
      ...uuid(f("credit_account_id"), t.creditAccountId, { optional: true }),
    );
    if (t.currency !== "") issues.push(...currencyCode(f("currency"), t.currency));
    if (t.amount !== "") {
      if (t.currency === "") {
        issues.push({ field: f("currency"), message: "is required with an amount" });
      } else {
        issues.push(...positiveAmount(f("amount"), t.amount, t.currency));
      }
    }
    if (t.timeoutSeconds !== 0) {
      issues.push({ field: f("timeout_seconds"), message: "only a pending transfer has a timeout" });
    }
  } else {
    issues.push(
      ...uuid(f("debit_account_id"), t.debitAccountId),
      ...uuid(f("credit_account_id"), t.creditAccountId),
      ...currencyCode(f("currency"), t.currency),
      ...positiveAmount(f("amount"), t.amount, t.currency),
    );
    if (t.pendingId !== "") {
      issues.push({
        field: f("pending_id"),
        message: "only post_pending and void_pending name a pending transfer",
      });
    }
    if (!flags?.pending && t.timeoutSeconds !== 0) {
      issues.push({ field: f("timeout_seconds"), message: "only a pending transfer has a timeout" });
    }
    if (t.timeoutSeconds > MAX_TIMEOUT_SECONDS) {
      issues.push({ field: f("timeout_seconds"), message: `must be at most ${MAX_TIMEOUT_SECONDS}` });
    }
  }
  issues.push(
    ...maxLength(f("reference"), t.reference, MAX_REFERENCE),
    ...maxLength(f("description"), t.description, MAX_DESCRIPTION),
  );
  const entries = Object.entries(t.userData);
  if (entries.length > MAX_USER_DATA_ENTRIES) {
    issues.push({ field: f("user_data"), message: `at most ${MAX_USER_DATA_ENTRIES} entries` });
  }
  for (const [key, value] of entries) {
    if (key === "" || key.length > MAX_USER_DATA_KEY || value.length > MAX_USER_DATA_VALUE) {
      issues.push({
        field: f("user_data"),
        message: `keys must be 1 to ${MAX_USER_DATA_KEY} and values at most ${MAX_USER_DATA_VALUE} characters`,
      });
      break;
    }
  }
  return issues;
}

export const ledgerValidation = defineValidation(LedgerService, {
  createAccount: (r) => {
    const issues = [
      ...uuid("id", r.id, { optional: true }),
      ...currencyCode("currency", r.currency),
      ...code("code", r.code),
      ...maxLength("owner_ref", r.ownerRef, MAX_OWNER_REF),
    ];
    if (r.flags?.debitsMustNotExceedCredits && r.flags.creditsMustNotExceedDebits) {
      issues.push({
        field: "flags",
        message: "debits_must_not_exceed_credits and credits_must_not_exceed_debits exclude each other",
      });
    }
    if (r.flags?.closed) issues.push({ field: "flags.closed", message: "an account is opened open" });
    return issues;
  },
  getAccount: (r) => uuid("account_id", r.accountId),
  closeAccount: (r) => uuid("account_id", r.accountId),
  getSystemAccount: (r) => {
    const issues = currencyCode("currency", r.currency);
    if (r.kind === AccountKind.UNSPECIFIED || r.kind === AccountKind.GENERAL || !(r.kind in AccountKind)) {
      issues.push({ field: "kind", message: "must be a system kind such as ACCOUNT_KIND_SETTLEMENT" });
    }
    return issues;
  },
  createTransfer: (r) => {
    const issues = newTransfer("transfer.", r.transfer);
    if (r.transfer?.flags?.linked) {
      issues.push({ field: "transfer.flags.linked", message: "a single transfer has nothing to link to" });
    }
    return issues;
  },
  createTransfers: (r) => {
    const n = r.transfers.length;
    if (n === 0 || n > MAX_BATCH_TRANSFERS) {
      return [{ field: "transfers", message: `must hold 1 to ${MAX_BATCH_TRANSFERS} transfers` }];
    }
    const issues = r.transfers.flatMap((t, i) => newTransfer(`transfers[${i}].`, t));
    if (r.transfers[n - 1]?.flags?.linked) {
      issues.push({
        field: `transfers[${n - 1}].flags.linked`,
        message: "the last transfer of a linked chain has linked false",
      });
    }
    return issues;
  },
  getTransfer: (r) => uuid("transfer_id", r.transferId),
  listAccountTransfers: (r) => {
    const issues = [
      ...uuid("account_id", r.accountId),
      ...timestamp("from_time", r.fromTime),
      ...timestamp("to_time", r.toTime),
    ];
    issues.push(...pageSizeIssues(r.limit, MAX_PAGE));
    if (r.code !== undefined) issues.push(...code("code", r.code));
    issues.push(...maxLength("reference", r.reference, MAX_REFERENCE));
    return issues;
  },
  getBalanceAt: (r) => [...uuid("account_id", r.accountId), ...timestamp("at", r.at)],
});
