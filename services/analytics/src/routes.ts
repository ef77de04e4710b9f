import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { requireAdmin, requireUser } from "@fintech/auth";
import type {
  CurrencyAmountSchema,
  ImportJobSchema,
} from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import type { AnalyticsService as Analytics } from "./analytics-service.js";
import { AnalyticsError } from "./errors.js";
import type { ImportService } from "./import-service.js";
import type { ImportRecord } from "./import-store.js";
import type { CurrencyAmountResult } from "./reports/flow.js";
import type { ProviderBucketResult, TypeBucketResult } from "./reports/stats.js";
import type { Granularity } from "./reports/time-series.js";

// The RPC surface: who may ask what, and proto messages at the edge. Requests have passed validation.ts.

/**
 * Whose analytics a call reads: the caller's, or for an admin the user_id asked for. A user naming another
 * user gets NotFound, as for any object of someone else's.
 */
function subject(ctx: HandlerContext, userId: string): string {
  const caller = requireUser(ctx);
  if (userId === "" || userId === caller.userId) return caller.userId;
  if (caller.roles.includes("admin")) return userId;
  throw new AnalyticsError("NOT_FOUND", "no such user", { field: "user_id" });
}

const n = (value: number) => BigInt(value);
const amounts = (list: CurrencyAmountResult[]): Array<MessageInitShape<typeof CurrencyAmountSchema>> =>
  list.map((a) => ({ currency: a.currency, amount: a.amount, count: n(a.count) }));

const providerTotal = (p: ProviderBucketResult) => ({ ...p, count: n(p.count) });
const typeTotal = (t: TypeBucketResult) => ({
  ...t,
  count: n(t.count),
  byProvider: t.byProvider.map(providerTotal),
});

export function analyticsRoutes(analytics: Analytics, imports: ImportService) {
  return (router: ConnectRouter) =>
    router.service(AnalyticsService, {
      async getSpending(req, ctx) {
        const userId = subject(ctx, req.userId);
        const r = await analytics.spending(userId, {
          startDate: req.startDate,
          endDate: req.endDate,
          currency: req.currency.toUpperCase(),
        });
        return {
          currency: r.currency,
          startDate: r.startDate,
          endDate: r.endDate,
          total: r.total,
          count: n(r.count),
          baseTotal: r.baseTotal,
          categories: r.categories.map((c) => ({
            category: c.category,
            total: c.total,
            count: n(c.count),
            refunded: c.refunded,
            refundCount: n(c.refundCount),
            baseTotal: c.baseTotal,
            amounts: amounts(c.amounts),
          })),
        };
      },

      async getTimeSeries(req, ctx) {
        const userId = subject(ctx, req.userId);
        const r = await analytics.timeSeries(userId, {
          granularity: (req.granularity || "day") as Granularity,
          startDate: req.startDate,
          endDate: req.endDate,
          currency: req.currency.toUpperCase(),
        });
        return {
          granularity: r.granularity,
          currency: r.currency,
          startDate: r.startDate,
          endDate: r.endDate,
          points: r.points.map((p) => ({ ...p, count: n(p.count) })),
        };
      },

      async getSummary(req, ctx) {
        const userId = subject(ctx, req.userId);
        const r = await analytics.summary(userId, { currency: req.currency.toUpperCase() });
        return {
          currency: r.currency,
          transactionCount: n(r.transactionCount),
          averageTransactionValue: r.averageTransactionValue,
          highestTransactionDay: r.highestTransactionDay,
          totalSpent: r.totalSpent,
          totalRefunded: r.totalRefunded,
          refundCount: n(r.refundCount),
          topCategory: r.topCategory && { ...r.topCategory, count: n(r.topCategory.count) },
          firstTransactionDate: r.firstTransactionDate,
          lastTransactionDate: r.lastTransactionDate,
          activeDays: n(r.activeDays),
          byType: r.byType.map((t) => ({ ...t, count: n(t.count) })),
          amounts: amounts(r.amounts),
        };
      },

      async getStats(req, ctx) {
        requireAdmin(ctx);
        const r = await analytics.stats({
          fromDate: req.fromDate,
          toDate: req.toDate,
          type: req.type,
          provider: req.provider,
        });
        return {
          fromDate: r.fromDate,
          toDate: r.toDate,
          currency: r.currency,
          count: n(r.count),
          amount: r.amount,
          byType: r.byType.map(typeTotal),
          byProvider: r.byProvider.map(providerTotal),
          byCurrency: amounts(r.byCurrency),
          days: r.days.map((d) => ({
            date: d.date,
            count: n(d.count),
            amount: d.amount,
            byType: d.byType.map(typeTotal),
            byProvider: d.byProvider.map(providerTotal),
          })),
        };
      },

      async getFraudStats(req, ctx) {
        requireAdmin(ctx);
        const r = await analytics.fraudStats({ fromDate: req.fromDate, toDate: req.toDate });
        return {
          fromDate: r.fromDate,
          toDate: r.toDate,
          currency: r.currency,
          scoredCount: n(r.scoredCount),
          averageScore: r.averageScore,
          decisions: r.decisions.map((d) => ({ ...d, count: n(d.count) })),
          ruleDecisions: r.ruleDecisions.map((d) => ({ ...d, count: n(d.count) })),
          shadowCount: n(r.shadowCount),
          flags: r.flags.map((f) => ({ ...f, count: n(f.count) })),
          scoreDistribution: r.scoreDistribution.map((b) => ({ ...b, count: n(b.count) })),
          reviewsApproved: n(r.reviewsApproved),
          reviewsRejected: n(r.reviewsRejected),
          days: r.days.map((d) => ({
            date: d.date,
            scoredCount: n(d.scoredCount),
            approved: n(d.approved),
            reviewed: n(d.reviewed),
            declined: n(d.declined),
            averageScore: d.averageScore,
          })),
        };
      },

      async createImport(req, ctx) {
        const admin = requireAdmin(ctx);
        const record = await imports.create({
          csv: req.csv,
          userId: req.userId,
          timezone: req.timezone || "UTC",
          replay: req.replay,
          speed: req.speed > 0 ? req.speed : 1,
          fileName: req.fileName || "upload.csv",
          createdBy: admin.userId,
        });
        return { importId: record.id };
      },

      async listImports(req, ctx) {
        requireAdmin(ctx);
        const page = await imports.list({ limit: req.limit, cursor: req.cursor });
        return {
          data: page.data.map(importJob),
          hasMore: page.nextCursor !== "",
          nextCursor: page.nextCursor,
        };
      },

      async getImport(req, ctx) {
        requireAdmin(ctx);
        return { job: importJob(await imports.get(req.id.toLowerCase())) };
      },
    });
}

function importJob(r: ImportRecord): MessageInitShape<typeof ImportJobSchema> {
  // By rows when the file's lines are known (replay reads the file long before it publishes the rows).
  const percent =
    r.status !== "running"
      ? 100
      : r.rowsTotal > 0
        ? Math.min(99, Math.floor((r.rowsProcessed * 100) / r.rowsTotal))
        : r.bytesTotal === 0
          ? 0
          : Math.min(99, Math.floor((r.bytesProcessed * 100) / r.bytesTotal));
  return {
    importId: r.id,
    status: r.status,
    fileName: r.fileName,
    fileSha256: r.fileSha256,
    userId: r.userId,
    timezone: r.timezone,
    replay: r.replay,
    speed: r.speed,
    bytesTotal: n(r.bytesTotal),
    bytesProcessed: n(r.bytesProcessed),
    rowsTotal: n(r.rowsTotal),
    percent,
    rowsProcessed: n(r.rowsProcessed),
    rowsImported: n(r.rowsImported),
    rowsFailed: n(r.rowsFailed),
    errors: r.errors.map((e) => ({
      line: n(e.line),
      reason: e.reason,
      message: e.message,
      column: e.column ?? "",
    })),
    errorsTruncated: r.errorsTruncated,
    rowsPerSecond: r.rowsPerSecond,
    duplicateOf: r.duplicateOf ?? "",
    failure: r.failure,
    createdAt: timestampFromDate(r.createdAt),
    finishedAt: r.finishedAt === undefined ? undefined : timestampFromDate(r.finishedAt),
  };
}
