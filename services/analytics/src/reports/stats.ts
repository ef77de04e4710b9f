// Platform statistics: totals per day, type and provider, and per day x type x provider.
import { formatAmount } from "@fintech/money";
import { PLATFORM_TYPES, platformField } from "../counter-fields.js";
import type { Counters } from "../counters.js";
import { addDays } from "../dates.js";
import type { CurrencyAmountResult } from "./flow.js";
import type { Tally } from "./tally.js";
import { tally } from "./tally.js";

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
