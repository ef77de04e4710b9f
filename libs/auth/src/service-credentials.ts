import type { Interceptor } from "@connectrpc/connect";

/** Options for {@link createServiceCredentials}. */
export interface ServiceCredentialsOptions {
  /** Gets a fresh service token, typically identity's IssueServiceToken (see identityTokenIssuer). */
  issue: () => Promise<{ token: string; expiresAt: Date }>;
  /** Renew this long before the token expires, in milliseconds (default 60_000, at most half its lifetime). */
  refreshBeforeMs?: number;
  /** Default: the system clock. */
  clock?: () => Date;
}

/** A service's own credential for calls to other services. */
export interface ServiceCredentials {
  /** Client interceptor setting `authorization: Bearer <service token>` on every outgoing call. */
  interceptor: Interceptor;
  /** The current token, renewed when it is close to expiry. */
  token(): Promise<string>;
}

/**
 * Keeps one service token and attaches it to outgoing calls. The token is renewed `refreshBeforeMs` before it
 * expires by a single request however many calls are waiting; while a renewal fails, the old token is used as
 * long as it has not expired, after which calls fail with the renewal's error.
 */
export function createServiceCredentials(opts: ServiceCredentialsOptions): ServiceCredentials {
  const refreshBeforeMs = opts.refreshBeforeMs ?? 60_000;
  const clock = opts.clock ?? (() => new Date());
  let current: { token: string; expiresAt: number; renewAt: number } | undefined;
  let renewing: Promise<string> | undefined;

  function renew(): Promise<string> {
    renewing ??= (async () => {
      const issuedAt = clock().getTime();
      const { token, expiresAt } = await opts.issue();
      const exp = expiresAt.getTime();
      const margin = Math.min(refreshBeforeMs, (exp - issuedAt) / 2);
      current = { token, expiresAt: exp, renewAt: exp - margin };
      return token;
    })().finally(() => {
      renewing = undefined;
    });
    return renewing;
  }

  async function token(): Promise<string> {
    const now = clock().getTime();
    if (current !== undefined && now < current.renewAt) return current.token;
    if (current !== undefined && now < current.expiresAt) {
      const still = current.token;
      return renew().catch(() => still);
    }
    return renew();
  }

  return {
    token,
    interceptor: (next) => async (req) => {
      req.header.set("authorization", `Bearer ${await token()}`);
      return next(req);
    },
  };
}
