import { findCurrency } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation, isTimeZone, pageSizeIssues } from "@fintech/platform";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { PLATFORM_TYPES } from "./counter-fields.js";
import { isDate } from "./dates.js";
import { platformTypeOf } from "./import-rows.js";

// The analytics service's request rules, in one place at the RPC edge: handlers may assume dates are real
// YYYY-MM-DD days, currencies known ISO 4217 codes (any case; routes upper-case them), granularities known.

function date(field: string, value: string): ValidationIssue[] {
  if (value === "" || isDate(value)) return [];
  return [{ field, message: "must be a date written YYYY-MM-DD" }];
}

function currencyCode(field: string, value: string): ValidationIssue[] {
  if (value === "") return [];
  if (!/^[A-Za-z]{3}$/.test(value) || findCurrency(value.toUpperCase()) === undefined) {
    return [{ field, message: "must be an ISO 4217 currency code such as MYR" }];
  }
  return [];
}

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

function userId(field: string, value: string): ValidationIssue[] {
  if (value === "" || ID.test(value)) return [];
  return [{ field, message: "must be a user id" }];
}

function granularity(value: string): ValidationIssue[] {
  if (value === "" || value === "day" || value === "week" || value === "month") return [];
  return [{ field: "granularity", message: "must be day, week or month" }];
}

const MAX_SPEED = 100_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const analyticsValidation = defineValidation(AnalyticsService, {
  getSpending: (r) => [
    ...date("start_date", r.startDate),
    ...date("end_date", r.endDate),
    ...currencyCode("currency", r.currency),
    ...userId("user_id", r.userId),
  ],
  getTimeSeries: (r) => [
    ...granularity(r.granularity),
    ...date("start_date", r.startDate),
    ...date("end_date", r.endDate),
    ...currencyCode("currency", r.currency),
    ...userId("user_id", r.userId),
  ],
  getSummary: (r) => [...currencyCode("currency", r.currency), ...userId("user_id", r.userId)],
  getStats: (r) => [
    ...date("from_date", r.fromDate),
    ...date("to_date", r.toDate),
    ...(r.type === "" || platformTypeOf(r.type) !== undefined
      ? []
      : [
          {
            field: "type",
            message: `must be one of ${PLATFORM_TYPES.join(", ")} (or deposit, deposits, ...)`,
          },
        ]),
    ...(r.provider.length <= 64 ? [] : [{ field: "provider", message: "must be at most 64 characters" }]),
  ],
  getFraudStats: (r) => [...date("from_date", r.fromDate), ...date("to_date", r.toDate)],
  createImport: (r) => {
    const issues: ValidationIssue[] = [];
    if (r.csv.trim() === "")
      issues.push({ field: "csv", message: "must hold the CSV text, header line first" });
    issues.push(...userId("user_id", r.userId));
    if (r.timezone !== "" && !isTimeZone(r.timezone)) {
      issues.push({ field: "timezone", message: "must be an IANA time zone such as Asia/Kuala_Lumpur" });
    }
    if (!Number.isFinite(r.speed) || r.speed < 0 || r.speed > MAX_SPEED) {
      issues.push({ field: "speed", message: `must be a number above 0, at most ${MAX_SPEED}` });
    }
    if (r.fileName.length > 255)
      issues.push({ field: "file_name", message: "must be at most 255 characters" });
    return issues;
  },
  listImports: (r) => pageSizeIssues(r.limit),
  getImport: (r) => (UUID.test(r.id) ? [] : [{ field: "id", message: "must be an import id (a UUID)" }]),
});
