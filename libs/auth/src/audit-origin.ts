import type { HandlerContext } from "@connectrpc/connect";
import { getRequestId } from "@fintech/platform";
import { getClientIp } from "./client-ip.js";
import { getPrincipal } from "./principal.js";

/** Who acted in an RPC, and through which request: what every audit entry of the RPC shares. */
export interface AuditOrigin {
  /** The service handling the RPC, e.g. "identity" (from `fintech.identity.v1.IdentityService`). */
  service: string;
  /** "<service>.<method in snake case>", e.g. "identity.update_user_status". */
  action: string;
  actor: {
    kind: "user" | "service" | "anonymous";
    /** The user's id or the service's name; "" when anonymous. */
    id: string;
    roles: string[];
    /** "jwt" or "api_key" for a user, "" otherwise. */
    credential: string;
  };
  /** The request's x-request-id. */
  requestId: string;
  /** The client's address as the gateway saw it ("" when the call did not come through the gateway). */
  clientIp: string;
}

/** The origin of the RPC being handled, for {@link auditEvent}: its caller, request id, client address and method. */
export function auditOrigin(ctx: HandlerContext): AuditOrigin {
  const principal = getPrincipal(ctx);
  const actor: AuditOrigin["actor"] =
    principal === undefined
      ? { kind: "anonymous", id: "", roles: [], credential: "" }
      : principal.kind === "user"
        ? {
            kind: "user",
            id: principal.userId,
            roles: [...principal.roles],
            credential: principal.credential,
          }
        : { kind: "service", id: principal.service, roles: [], credential: "" };
  // fintech.<service>.v1.<Name>Service
  const service = ctx.service.typeName.split(".")[1] ?? ctx.service.typeName;
  const method = ctx.method.name.replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase();
  return {
    service,
    action: `${service}.${method}`,
    actor,
    requestId: getRequestId(ctx),
    clientIp: getClientIp(ctx),
  };
}
