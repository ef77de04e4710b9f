import type { ContextValues } from "@connectrpc/connect";
import { createContextKey } from "@connectrpc/connect";
import { forbidden, unauthenticated } from "./errors.js";

/** The roles a user can hold. */
export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => value === "user" || value === "admin";

/**
 * Who is calling: a user (with an access token or one of their API keys, which acts as them) or another
 * service with a service token.
 */
export type Principal =
  | { kind: "user"; userId: string; roles: readonly Role[]; credential: "jwt" | "api_key" }
  | { kind: "service"; service: string };

export type UserPrincipal = Extract<Principal, { kind: "user" }>;
export type ServicePrincipal = Extract<Principal, { kind: "service" }>;

/** Context key the auth interceptor stores the caller under; undefined for an anonymous call. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "principal" });

/** Anything carrying context values: a HandlerContext, or `{ values: req.contextValues }` in an interceptor. */
export interface WithContextValues {
  readonly values: ContextValues;
}

/** The caller of the RPC being handled, or undefined when it called anonymously (a public method). */
export function getPrincipal(ctx: WithContextValues): Principal | undefined {
  return ctx.values.get(principalKey);
}

/** The calling user; Unauthenticated (UNAUTHENTICATED) when anonymous, PermissionDenied (FORBIDDEN) for a service. */
export function requireUser(ctx: WithContextValues): UserPrincipal {
  const p = getPrincipal(ctx);
  if (p === undefined) throw unauthenticated("credentials required");
  if (p.kind !== "user") throw forbidden("this method is for users");
  return p;
}

/** The calling user when they hold the admin role; PermissionDenied (FORBIDDEN) otherwise. */
export function requireAdmin(ctx: WithContextValues): UserPrincipal {
  const p = requireUser(ctx);
  if (!p.roles.includes("admin")) throw forbidden("admin role required");
  return p;
}

/**
 * The calling service, when it is one of `allowed` (any service when omitted); Unauthenticated when anonymous,
 * PermissionDenied (FORBIDDEN) for users and other services.
 */
export function requireService(ctx: WithContextValues, allowed?: readonly string[]): ServicePrincipal {
  const p = getPrincipal(ctx);
  if (p === undefined) throw unauthenticated("credentials required");
  if (p.kind !== "service") throw forbidden("this method is for services");
  if (allowed !== undefined && !allowed.includes(p.service)) {
    throw forbidden(`service ${p.service} may not call this method`);
  }
  return p;
}

/** True when `p` is the user `userId` or an admin. Services are neither. */
export function isOwnerOrAdmin(p: Principal | undefined, userId: string): boolean {
  return p?.kind === "user" && (p.userId === userId || p.roles.includes("admin"));
}
