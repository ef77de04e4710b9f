import { isIP } from "node:net";
import { createContextKey } from "@connectrpc/connect";
import type { Authenticator } from "./authenticator.js";
import type { WithContextValues } from "./principal.js";

/** The client's address as the gateway saw it, on the gateway's calls to backends. */
export const FORWARDED_FOR_HEADER = "x-forwarded-for";

/**
 * The gateway's proof that it forwarded a call: `Bearer <its own service token>`, beside the caller's credential.
 * A backend believes `x-forwarded-for` only with it, since anyone reaching a service port can send that header.
 */
export const FORWARDED_BY_HEADER = "x-forwarded-by";

/** The services whose forwarded calls are believed unless a service says otherwise: the gateway. */
export const DEFAULT_FORWARDERS: readonly string[] = ["gateway"];

/** Whether `headers` carry, in `x-forwarded-by`, a valid service token of one of `forwarders`. */
export async function forwardedByOneOf(
  authenticator: Authenticator,
  headers: Headers,
  forwarders: ReadonlySet<string>,
): Promise<boolean> {
  const proof = headers.get(FORWARDED_BY_HEADER);
  if (proof === null) return false;
  const forwarder = await authenticator
    .authenticate(new Headers({ authorization: proof }))
    .catch(() => undefined);
  return forwarder?.kind === "service" && forwarders.has(forwarder.service);
}

/** Context key the auth interceptor stores the trusted client address under ("" when there is none). */
export const clientIpKey = createContextKey<string>("", { description: "client ip" });

/** The caller's IP address as the gateway saw it, or "" when the call did not come through the gateway. */
export function getClientIp(ctx: WithContextValues): string {
  return ctx.values.get(clientIpKey);
}

/** `value` when it is one IPv4 or IPv6 address, else "". */
export function singleAddress(value: string | null): string {
  const text = value?.trim() ?? "";
  return isIP(text) === 0 ? "" : text;
}
