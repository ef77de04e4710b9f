// A user's spending per merchant category.
import { formatAmount } from "@fintech/money";
import type { Counters } from "../counters.js";
import type { CurrencyAmountResult, CurrencyView, Flow } from "./flow.js";
import { addSpending, byTotalThenName, emptyFlow, ownAmounts } from "./flow.js";

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
