import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import { unauthenticated } from "./errors.js";
import type { WithContextValues } from "./principal.js";
import { getPrincipal, requireAdmin, requireService, requireUser } from "./principal.js";

/**
 * Who may call a method:
 * - "public": anyone, credentials optional;
 * - "authenticated": any verified caller, user or service;
 * - "user": any user (admins included), not a service;
 * - "admin": a user with the admin role;
 * - "service": any service, never a user;
 * - "admin_or_service": an admin or any service;
 * - `{ services: [...] }`: one of the named services.
 */
export type Access =
  | "public"
  | "authenticated"
  | "user"
  | "admin"
  | "service"
  | "admin_or_service"
  | { readonly services: readonly string[] };

/** One {@link Access} per method of the service, by its generated local name; a method left out does not compile. */
export type AccessPolicies<S extends DescService> = { readonly [K in keyof S["method"]]: Access };

/** Throws Unauthenticated / PermissionDenied (FORBIDDEN) unless the caller in `ctx` passes `access`. */
export function authorize(ctx: WithContextValues, access: Access): void {
  switch (access) {
    case "public":
      return;
    case "authenticated":
      if (getPrincipal(ctx) === undefined) throw unauthenticated("credentials required");
      return;
    case "user":
      requireUser(ctx);
      return;
    case "admin":
      requireAdmin(ctx);
      return;
    case "service":
      requireService(ctx);
      return;
    case "admin_or_service":
      if (getPrincipal(ctx)?.kind !== "service") requireAdmin(ctx);
      return;
    default:
      requireService(ctx, access.services);
  }
}

/**
 * An interceptor checking, for every method of `service`, who may call it, in one table. Put it right after the
 * auth interceptor and before validation, so a caller who may not call a method is refused (Unauthenticated or
 * PermissionDenied) before any request rule runs and learns nothing about a request's shape. Handlers still read
 * the caller (requireUser, ...) for per-object checks. A method unknown to the table is admin-only, never open.
 */
export function defineAccess<S extends DescService>(service: S, policies: AccessPolicies<S>): Interceptor {
  // Typed per method for the author; at run time the method is only known by name.
  const byLocalName = policies as Readonly<Record<string, Access | undefined>>;
  const byName = new Map<string, Access>();
  for (const method of service.methods) {
    const access = byLocalName[method.localName];
    if (access !== undefined) byName.set(method.name, access);
  }
  return (next) => async (req) => {
    if (req.service.typeName !== service.typeName) return next(req);
    // A method missing from the table (a stale build) is admin-only rather than open.
    authorize({ values: req.contextValues }, byName.get(req.method.name) ?? "admin");
    return next(req);
  };
}
