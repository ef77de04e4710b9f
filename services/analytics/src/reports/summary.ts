// A user's all-time summary.
import { divideHalfEven, formatAmount } from "@fintech/money";
import type { UserKind } from "../counter-fields.js";
import { USER_KINDS } from "../counter-fields.js";
import type { Counters } from "../counters.js";
import type { CurrencyAmountResult, CurrencyView, Flow } from "./flow.js";
import { addFlowField, byTotalThenName, converter, emptyFlow, ownAmounts, viewedField } from "./flow.js";

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
      total.count === 0 ? 0n : divideHalfEven(total.amount, BigInt(total.count)),
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
