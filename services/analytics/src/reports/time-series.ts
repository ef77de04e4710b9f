// A user's net spending per day, week or month.
import { formatAmount } from "@fintech/money";
import type { Counters } from "../counters.js";
import { addDays, addMonths, dayNumber, monthEnd, monthStart, weekStart } from "../dates.js";
import type { CurrencyView, Flow } from "./flow.js";
import { addSpending, emptyFlow } from "./flow.js";

export type Granularity = "day" | "week" | "month";

export interface TimeSeriesPointResult {
  periodStart: string;
  periodEnd: string;
  total: string;
  count: number;
  refunded: string;
  baseTotal: string;
}

export interface TimeSeriesResult {
  granularity: Granularity;
  currency: string;
  startDate: string;
  endDate: string;
  points: TimeSeriesPointResult[];
}

/** The first day of the period holding `day`. */
export function periodStart(day: string, granularity: Granularity): string {
  return granularity === "day" ? day : granularity === "week" ? weekStart(day) : monthStart(day);
}

/** The first day of the period after the one starting on `start`. */
function nextPeriod(start: string, granularity: Granularity): string {
  return granularity === "day"
    ? addDays(start, 1)
    : granularity === "week"
      ? addDays(start, 7)
      : addMonths(start, 1);
}

function periodEnd(start: string, granularity: Granularity): string {
  return granularity === "day" ? start : granularity === "week" ? addDays(start, 6) : monthEnd(start);
}

/** How many periods the range covers (to bound requests). */
export function periodCount(startDate: string, endDate: string, granularity: Granularity): number {
  const first = periodStart(startDate, granularity);
  const last = periodStart(endDate, granularity);
  if (granularity === "day") return dayNumber(last) - dayNumber(first) + 1;
  if (granularity === "week") return (dayNumber(last) - dayNumber(first)) / 7 + 1;
  const months = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7));
  return months(last) - months(first) + 1;
}

/** The days a time series needs: whole periods around the range. */
export function timeSeriesSpan(
  startDate: string,
  endDate: string,
  granularity: Granularity,
): [string, string] {
  const lastStart = periodStart(endDate, granularity);
  return [periodStart(startDate, granularity), periodEnd(lastStart, granularity)];
}

/**
 * Net spending per period from the period holding startDate to the one holding endDate. `days` must cover
 * whole periods (from periodStart(startDate) to the end of endDate's period).
 */
export function timeSeriesReport(
  days: Map<string, Counters>,
  view: CurrencyView,
  range: { startDate: string; endDate: string; granularity: Granularity },
  baseCurrency: string,
): TimeSeriesResult {
  const { granularity } = range;
  const flows = new Map<string, Flow>();
  for (const [day, counters] of days) {
    const start = periodStart(day, granularity);
    let f = flows.get(start);
    if (f === undefined) {
      f = emptyFlow();
      flows.set(start, f);
    }
    const flow = f;
    addSpending(day, counters, view, () => flow);
  }
  const points: TimeSeriesPointResult[] = [];
  const last = periodStart(range.endDate, granularity);
  for (let p = periodStart(range.startDate, granularity); p <= last; p = nextPeriod(p, granularity)) {
    const f = flows.get(p) ?? emptyFlow();
    points.push({
      periodStart: p,
      periodEnd: periodEnd(p, granularity),
      total: formatAmount(f.amount - f.refunded, view.currency),
      count: f.count,
      refunded: formatAmount(f.refunded, view.currency),
      baseTotal: formatAmount(f.base - f.refundedBase, baseCurrency),
    });
  }
  return { granularity, currency: view.currency, startDate: range.startDate, endDate: range.endDate, points };
}
