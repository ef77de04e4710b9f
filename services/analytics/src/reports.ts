// Answers computed from a scope's counters per day (see counter-fields.ts for the counters). Pure: amounts come
// out as decimal strings and counts as numbers, ready for the RPC edge and for the query cache (plain JSON).
import type { Decimal } from "@fintech/money";
import { convertAmount, formatAmount } from "@fintech/money";
import type { CounterField } from "./counter-codec.js";
import type { UserField, UserKind } from "./counter-fields.js";
import {
  DECISION_NAMES,
  fraudField,
  PLATFORM_TYPES,
  platformField,
  USER_KINDS,
  userField,
} from "./counter-fields.js";
import type { Counters } from "./counters.js";
import { addDays, addMonths, dayNumber, monthEnd, monthStart, weekStart } from "./dates.js";

/** Which transactions a user report counts and in which currency it totals them. */
export interface CurrencyView {
  /** The currency totals are in: the filter, or the base currency. */
  currency: string;
  /** Only transactions in this currency; undefined: all, totalled by their base amounts. */
  filter: string | undefined;
  /**
   * Without a filter, when `currency` is not the base currency: the rate of each day (1 base unit = rate
   * `currency`) base amounts are converted at, day by day (half-even to the minor unit).
   */
  dayRates?: ReadonlyMap<string, Decimal>;
  /** The base currency (for converting); required with dayRates. */
  baseCurrency?: string;
}

export interface CurrencyAmountResult {
  currency: string;
  amount: string;
  count: number;
}

/** How one day's base amounts become amounts in the view's currency: as they are, or at that day's rate. */
export function converter(view: CurrencyView, day: string): (base: bigint) => bigint {
  const rate = view.dayRates?.get(day);
  if (view.filter !== undefined || rate === undefined || view.baseCurrency === undefined) return (v) => v;
  const from = view.baseCurrency;
  return (v) => convertAmount(v, from, view.currency, rate);
}

/** A user's counter decoded, when the view counts it (undefined: another currency than the filter's). */
export function viewedField(name: CounterField, view: CurrencyView): UserField | undefined {
  const key = userField.decode(name);
  return key === undefined || (view.filter !== undefined && key.currency !== view.filter) ? undefined : key;
}

/** Purchases and refunds of a set of transactions. */
export interface Flow {
  count: number;
  /** In the view's currency. */
  amount: bigint;
  base: bigint;
  refundCount: number;
  refunded: bigint;
  refundedBase: bigint;
  /** Own currency -> [net amount, purchase count]. */
  own: Map<string, [bigint, number]>;
}

export const emptyFlow = (): Flow => ({
  count: 0,
  amount: 0n,
  base: 0n,
  refundCount: 0,
  refunded: 0n,
  refundedBase: 0n,
  own: new Map(),
});

/** Adds one purchase or refund counter (already known to pass the view's filter) into a flow. */
export function addFlowField(
  flow: Flow,
  key: UserField,
  value: bigint,
  view: CurrencyView,
  conv: (base: bigint) => bigint,
): void {
  const { kind, currency, metric } = key;
  let own = flow.own.get(currency);
  if (own === undefined) {
    own = [0n, 0];
    flow.own.set(currency, own);
  }
  if (kind === "purchase") {
    if (metric === "n") {
      flow.count += Number(value);
      own[1] += Number(value);
    } else if (metric === "a") {
      own[0] += value;
      if (view.filter !== undefined) flow.amount += value;
    } else {
      flow.base += value;
      if (view.filter === undefined) flow.amount += conv(value);
    }
  } else if (metric === "n") {
    flow.refundCount += Number(value);
  } else if (metric === "a") {
    own[0] -= value;
    if (view.filter !== undefined) flow.refunded += value;
  } else {
    flow.refundedBase += value;
    if (view.filter === undefined) flow.refunded += conv(value);
  }
}

/** Adds one day's purchase and refund counters into the flow of each counter's category. */
export function addSpending(
  day: string,
  counters: Counters,
  view: CurrencyView,
  flowOf: (category: string) => Flow,
): void {
  const conv = converter(view, day);
  for (const [name, value] of counters) {
    const key = viewedField(name, view);
    if (key === undefined || (key.kind !== "purchase" && key.kind !== "refund")) continue;
    addFlowField(flowOf(key.category), key, value, view, conv);
  }
}

/** Net amounts and purchase counts per own currency, in currency order, leaving out the empty ones. */
export function ownAmounts(own: Map<string, [bigint, number]>): CurrencyAmountResult[] {
  return [...own]
    .filter(([, [amount, count]]) => amount !== 0n || count !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([currency, [amount, count]]) => ({ currency, amount: formatAmount(amount, currency), count }));
}

/** Largest net first, then by name. */
export const byTotalThenName = <T extends { net: bigint; name: string }>(a: T, b: T): number =>
  a.net !== b.net ? (a.net > b.net ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export interface CategoryResult {
  category: string;
  total: string;
  count: number;
  refunded: string;
  refundCount: number;
  baseTotal: string;
  amounts: CurrencyAmountResult[];
}

export interface SpendingResult {
  currency: string;
  startDate: string;
  endDate: string;
  total: string;
  count: number;
  baseTotal: string;
  categories: CategoryResult[];
}

/** Spending per merchant category over `days` (already limited to the range). */
export function spendingReport(
  days: Map<string, Counters>,
  view: CurrencyView,
  range: { startDate: string; endDate: string },
  baseCurrency: string,
): SpendingResult {
  const flows = new Map<string, Flow>();
  const flowOf = (category: string) => {
    let f = flows.get(category);
    if (f === undefined) {
      f = emptyFlow();
      flows.set(category, f);
    }
    return f;
  };
  for (const [day, counters] of days) addSpending(day, counters, view, flowOf);
  const all = emptyFlow();
  const categories = [...flows]
    .filter(([, f]) => f.count !== 0 || f.refundCount !== 0 || f.amount !== 0n || f.refunded !== 0n)
    .map(([name, f]) => {
      all.count += f.count;
      all.amount += f.amount - f.refunded;
      all.base += f.base - f.refundedBase;
      return { name, net: f.amount - f.refunded, f };
    })
    .sort(byTotalThenName)
    .map(({ name, net, f }) => ({
      category: name,
      total: formatAmount(net, view.currency),
      count: f.count,
      refunded: formatAmount(f.refunded, view.currency),
      refundCount: f.refundCount,
      baseTotal: formatAmount(f.base - f.refundedBase, baseCurrency),
      amounts: ownAmounts(f.own),
    }));
  return {
    currency: view.currency,
    startDate: range.startDate,
    endDate: range.endDate,
    total: formatAmount(all.amount, view.currency),
    count: all.count,
    baseTotal: formatAmount(all.base, baseCurrency),
    categories,
  };
}

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

/** Half-even division of integers (a / b, b > 0). */
export function divHalfEven(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice < b || (twice === b && q % 2n === 0n)) return q;
  return a < 0n ? q - 1n : q + 1n;
}

export interface SummaryResult {
  currency: string;
  transactionCount: number;
  averageTransactionValue: string;
  highestTransactionDay: { date: string; total: string } | undefined;
  totalSpent: string;
  totalRefunded: string;
  refundCount: number;
  topCategory: { category: string; total: string; count: number } | undefined;
  firstTransactionDate: string;
  lastTransactionDate: string;
  activeDays: number;
  byType: Array<{ type: string; count: number; total: string }>;
  amounts: CurrencyAmountResult[];
}

/** The all-time summary over every day of a user. */
export function summaryReport(days: Map<string, Counters>, view: CurrencyView): SummaryResult {
  const total = emptyFlow();
  const categories = new Map<string, Flow>();
  let best: { date: string; net: bigint } | undefined;
  let first = "";
  let last = "";
  let activeDays = 0;
  const kinds = new Map<UserKind, { count: number; total: bigint }>(
    USER_KINDS.map((k) => [k, { count: 0, total: 0n }]),
  );
  const amountMetric = view.filter === undefined ? "b" : "a";
  for (const [day, counters] of days) {
    const dayFlow = emptyFlow();
    const conv = converter(view, day);
    // One pass over the day's counters: each purchase or refund goes to its category, the day and the total.
    for (const [name, value] of counters) {
      const key = viewedField(name, view);
      if (key === undefined) continue;
      const k = kinds.get(key.kind);
      if (k !== undefined) {
        if (key.metric === "n") k.count += Number(value);
        else if (key.metric === amountMetric) k.total += amountMetric === "b" ? conv(value) : value;
      }
      if (key.kind !== "purchase" && key.kind !== "refund") continue;
      let cat = categories.get(key.category);
      if (cat === undefined) {
        cat = emptyFlow();
        categories.set(key.category, cat);
      }
      addFlowField(cat, key, value, view, conv);
      addFlowField(dayFlow, key, value, view, conv);
      addFlowField(total, key, value, view, conv);
    }
    if (dayFlow.count > 0) {
      activeDays++;
      if (first === "" || day < first) first = day;
      if (last === "" || day > last) last = day;
      const net = dayFlow.amount - dayFlow.refunded;
      if (best === undefined || net > best.net || (net === best.net && day < best.date)) {
        best = { date: day, net };
      }
    }
  }
  const top = [...categories]
    .filter(([, f]) => f.count !== 0 || f.refundCount !== 0)
    .map(([name, f]) => ({ name, net: f.amount - f.refunded, f }))
    .sort(byTotalThenName)[0];
  return {
    currency: view.currency,
    transactionCount: total.count,
    averageTransactionValue: formatAmount(
      total.count === 0 ? 0n : divHalfEven(total.amount, BigInt(total.count)),
      view.currency,
    ),
    highestTransactionDay:
      best === undefined ? undefined : { date: best.date, total: formatAmount(best.net, view.currency) },
    totalSpent: formatAmount(total.amount - total.refunded, view.currency),
    totalRefunded: formatAmount(total.refunded, view.currency),
    refundCount: total.refundCount,
    topCategory:
      top === undefined
        ? undefined
        : { category: top.name, total: formatAmount(top.net, view.currency), count: top.f.count },
    firstTransactionDate: first,
    lastTransactionDate: last,
    activeDays,
    byType: [...kinds].map(([type, k]) => ({
      type,
      count: k.count,
      total: formatAmount(k.total, view.currency),
    })),
    amounts: ownAmounts(total.own),
  };
}

/** Counts and base amounts per name (a type, a provider, a currency, a decision). */
export type Tally = Map<string, { count: number; amount: bigint }>;

/**
 * Adds one counter into `key`'s entry, creating it: a count (`n`) or the amount metric `amountMetric` (default
 * `b`, the base amount); other metrics only create the entry.
 */
export function tally(t: Tally, key: string, metric: string, value: bigint, amountMetric = "b"): void {
  let e = t.get(key);
  if (e === undefined) {
    e = { count: 0, amount: 0n };
    t.set(key, e);
  }
  if (metric === "n") e.count += Number(value);
  else if (metric === amountMetric) e.amount += value;
}

export interface StatsBucketResult {
  count: number;
  amount: string;
}

export type ProviderBucketResult = { provider: string } & StatsBucketResult;

/** A type's totals with its per-provider cells. */
export type TypeBucketResult = { type: string; byProvider: ProviderBucketResult[] } & StatsBucketResult;

export interface StatsDayResult {
  date: string;
  count: number;
  amount: string;
  byType: TypeBucketResult[];
  byProvider: ProviderBucketResult[];
}

export interface StatsResult {
  fromDate: string;
  toDate: string;
  currency: string;
  count: number;
  amount: string;
  byType: TypeBucketResult[];
  byProvider: ProviderBucketResult[];
  byCurrency: CurrencyAmountResult[];
  days: StatsDayResult[];
}

/** Which platform transactions statistics count: one type and/or one provider; undefined = all. */
export interface StatsFilter {
  type?: string | undefined;
  provider?: string | undefined;
}

/** What an empty provider is called: money that stayed inside the platform. */
export const INTERNAL_PROVIDER = "internal";

function sortedTally(t: Tally, currencyOf: (key: string) => string) {
  return [...t]
    .filter(([, e]) => e.count !== 0 || e.amount !== 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, e]) => ({ key, count: e.count, amount: formatAmount(e.amount, currencyOf(key)) }));
}

/** Type x provider cells: type -> its providers' tally. */
type Cells = Map<string, Tally>;

function cellsOf(cells: Cells, type: string): Tally {
  let t = cells.get(type);
  if (t === undefined) {
    t = new Map();
    cells.set(type, t);
  }
  return t;
}

const typeOrder = (t: string) => {
  const i = (PLATFORM_TYPES as readonly string[]).indexOf(t);
  return i === -1 ? PLATFORM_TYPES.length : i;
};

/** Types in the platform's order, each with its providers' cells in alphabetical order. */
function typeBuckets(types: Tally, cells: Cells, currency: string): TypeBucketResult[] {
  const base = () => currency;
  return sortedTally(types, base)
    .map(({ key, ...rest }) => ({
      type: key,
      ...rest,
      byProvider: sortedTally(cells.get(key) ?? new Map(), base).map(({ key: provider, ...cell }) => ({
        provider,
        ...cell,
      })),
    }))
    .sort((a, b) => typeOrder(a.type) - typeOrder(b.type) || (a.type < b.type ? -1 : 1));
}

/**
 * Platform totals per day, type and provider, and per day x type x provider, for every day of [fromDate,
 * toDate], counting only what `filter` lets through. Amounts are exact sums of the base amounts.
 */
export function statsReport(
  days: Map<string, Counters>,
  range: { fromDate: string; toDate: string },
  baseCurrency: string,
  filter: StatsFilter = {},
): StatsResult {
  const base = () => baseCurrency;
  const allTypes: Tally = new Map();
  const allCells: Cells = new Map();
  const allProviders: Tally = new Map();
  const allCurrencies: Tally = new Map();
  const out: StatsDayResult[] = [];
  let count = 0;
  let amount = 0n;
  for (let day = range.fromDate; day <= range.toDate; day = addDays(day, 1)) {
    const types: Tally = new Map();
    const cells: Cells = new Map();
    const providers: Tally = new Map();
    let dayCount = 0;
    let dayAmount = 0n;
    for (const [name, value] of days.get(day) ?? []) {
      const key = platformField.decode(name);
      if (key === undefined) continue;
      const { type, currency, metric } = key;
      const provider = key.provider === "" ? INTERNAL_PROVIDER : key.provider;
      if (filter.type !== undefined && type !== filter.type) continue;
      if (filter.provider !== undefined && provider !== filter.provider) continue;
      tally(types, type, metric, value);
      tally(cellsOf(cells, type), provider, metric, value);
      tally(providers, provider, metric, value);
      tally(allTypes, type, metric, value);
      tally(cellsOf(allCells, type), provider, metric, value);
      tally(allProviders, provider, metric, value);
      tally(allCurrencies, currency, metric, value, "a");
      if (metric === "n") dayCount += Number(value);
      else if (metric === "b") dayAmount += value;
    }
    count += dayCount;
    amount += dayAmount;
    out.push({
      date: day,
      count: dayCount,
      amount: formatAmount(dayAmount, baseCurrency),
      byType: typeBuckets(types, cells, baseCurrency),
      byProvider: sortedTally(providers, base).map(({ key, ...rest }) => ({ provider: key, ...rest })),
    });
  }
  return {
    fromDate: range.fromDate,
    toDate: range.toDate,
    currency: baseCurrency,
    count,
    amount: formatAmount(amount, baseCurrency),
    byType: typeBuckets(allTypes, allCells, baseCurrency),
    byProvider: sortedTally(allProviders, base).map(({ key, ...rest }) => ({ provider: key, ...rest })),
    byCurrency: sortedTally(allCurrencies, (c) => c).map(({ key, count: n, amount: a }) => ({
      currency: key,
      amount: a,
      count: n,
    })),
    days: out,
  };
}

export interface FraudResult {
  fromDate: string;
  toDate: string;
  currency: string;
  scoredCount: number;
  averageScore: string;
  decisions: Array<{ decision: string; count: number; amount: string }>;
  ruleDecisions: Array<{ decision: string; count: number; amount: string }>;
  shadowCount: number;
  flags: Array<{ rule: string; count: number }>;
  scoreDistribution: Array<{ min: number; max: number; count: number }>;
  reviewsApproved: number;
  reviewsRejected: number;
  days: Array<{
    date: string;
    scoredCount: number;
    approved: number;
    reviewed: number;
    declined: number;
    averageScore: string;
  }>;
}

/** A score average with two decimals, half-even. */
function average(sum: bigint, count: number): string {
  if (count === 0) return "0.00";
  const hundredths = divHalfEven(sum * 100n, BigInt(count));
  const whole = hundredths / 100n;
  return `${whole}.${String(hundredths % 100n).padStart(2, "0")}`;
}

/** Fraud scoring and review outcomes for every day of [fromDate, toDate]. */
export function fraudReport(
  days: Map<string, Counters>,
  range: { fromDate: string; toDate: string },
  baseCurrency: string,
): FraudResult {
  let scored = 0;
  let scoreSum = 0n;
  let shadow = 0;
  const decisions: Tally = new Map(DECISION_NAMES.map((d) => [d, { count: 0, amount: 0n }]));
  const ruleDecisions: Tally = new Map(DECISION_NAMES.map((d) => [d, { count: 0, amount: 0n }]));
  const flags = new Map<string, number>();
  const buckets = Array.from({ length: 10 }, () => 0);
  const reviews = new Map<string, number>();
  const perDay: FraudResult["days"] = [];
  for (let day = range.fromDate; day <= range.toDate; day = addDays(day, 1)) {
    let dayScored = 0;
    let daySum = 0n;
    const dayDecisions = new Map<string, number>();
    for (const [name, value] of days.get(day) ?? []) {
      const key = fraudField.decode(name);
      if (key === undefined) continue;
      const n = Number(value);
      switch (key.counter) {
        case "scored":
          dayScored += n;
          break;
        case "score":
          daySum += value;
          break;
        case "shadow":
          shadow += n;
          break;
        case "decision":
          tally(decisions, key.decision, key.metric, value);
          if (key.metric === "n") dayDecisions.set(key.decision, (dayDecisions.get(key.decision) ?? 0) + n);
          break;
        case "rule_decision":
          tally(ruleDecisions, key.decision, key.metric, value);
          break;
        case "flag":
          flags.set(key.rule, (flags.get(key.rule) ?? 0) + n);
          break;
        case "bucket": {
          const b = Number(key.bucket);
          buckets[b] = (buckets[b] ?? 0) + n;
          break;
        }
        case "review":
          reviews.set(key.decision, (reviews.get(key.decision) ?? 0) + n);
          break;
      }
    }
    scored += dayScored;
    scoreSum += daySum;
    perDay.push({
      date: day,
      scoredCount: dayScored,
      approved: dayDecisions.get("approve") ?? 0,
      reviewed: dayDecisions.get("review") ?? 0,
      declined: dayDecisions.get("decline") ?? 0,
      averageScore: average(daySum, dayScored),
    });
  }
  const decisionList = (t: Tally) =>
    [...t].map(([decision, e]) => ({
      decision,
      count: e.count,
      amount: formatAmount(e.amount, baseCurrency),
    }));
  return {
    fromDate: range.fromDate,
    toDate: range.toDate,
    currency: baseCurrency,
    scoredCount: scored,
    averageScore: average(scoreSum, scored),
    decisions: decisionList(decisions),
    ruleDecisions: decisionList(ruleDecisions),
    shadowCount: shadow,
    flags: [...flags]
      .filter(([, n]) => n !== 0)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .map(([rule, count]) => ({ rule, count })),
    scoreDistribution: buckets.map((count, i) => ({ min: i * 10, max: i === 9 ? 100 : i * 10 + 9, count })),
    reviewsApproved: reviews.get("approve") ?? 0,
    reviewsRejected: reviews.get("reject") ?? 0,
    days: perDay,
  };
}
