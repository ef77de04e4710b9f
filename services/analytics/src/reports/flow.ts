// What the user reports (spending, time series, summary) share: a user's purchases and refunds added up per
// category, period or day, in the currency a query asks for.
import type { Decimal } from "@fintech/money";
import { convertAmount, formatAmount } from "@fintech/money";
import type { CounterField } from "../counter-codec.js";
import type { UserField } from "../counter-fields.js";
import { userField } from "../counter-fields.js";
import type { Counters } from "../counters.js";

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
