import type { HandlerContext, Interceptor } from "@connectrpc/connect";
import { requireAdmin, requireService } from "@fintech/auth";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";

type Policy = { kind: "service"; allowed: readonly string[] } | { kind: "admin" };

/**
 * Who may call what, in one table, checked after authentication and before validation (so a caller without the
 * right learns nothing about a request's shape): Score and ScoreBatch for the listed services (the wallet),
 * everything else for admins (fraud analysts). Refusals: UNAUTHENTICATED without a principal, FORBIDDEN for the
 * wrong caller.
 * @param scoreCallers service names allowed to call Score and ScoreBatch.
 */
export function fraudAccess(scoreCallers: readonly string[]): Interceptor {
  const admin: Policy = { kind: "admin" };
  const policies: Record<keyof typeof FraudService.method, Policy> = {
    score: { kind: "service", allowed: scoreCallers },
    scoreBatch: { kind: "service", allowed: scoreCallers },
    listReviews: admin,
    decideReview: admin,
    getRules: admin,
    updateRules: admin,
    listRuleVersions: admin,
    getStats: admin,
  };
  const byName = new Map(
    FraudService.methods.map((m) => [m.name, policies[m.localName as keyof typeof policies]]),
  );
  return (next) => async (req) => {
    if (req.service.typeName !== FraudService.typeName) return next(req);
    const policy = byName.get(req.method.name);
    const ctx = { values: req.contextValues };
    // A method without a policy would be open to anyone: refuse it instead.
    if (!policy || policy.kind === "admin") requireAdmin(ctx);
    else requireService(ctx, policy.allowed);
    return next(req);
  };
}

/** The analyst acting: the calling admin's user id (the access interceptor has checked the role). */
export function analystOf(ctx: HandlerContext): string {
  return requireAdmin(ctx).userId;
}
