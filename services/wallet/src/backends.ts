import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import type { InProcessTransport } from "@fintech/platform";
import { createServiceTransport } from "@fintech/platform";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";

/** The services the wallet calls, each as itself (its service token on every call). */
export interface Backends {
  ledger: Client<typeof LedgerService>;
  fx: Client<typeof FxService>;
  fraud: Client<typeof FraudService>;
  identity: Client<typeof IdentityService>;
}

/** Where the backends are. */
export interface BackendUrls {
  LEDGER_URL: string;
  FX_URL: string;
  FRAUD_URL: string;
  IDENTITY_URL: string;
  /** How often host names in them are looked up again, in ms (default 30000). */
  UPSTREAM_RESOLVE_MS?: number;
}

/**
 * Clients of the ledger, fx, fraud and identity over HTTP/2 cleartext with the Connect protocol and binary
 * protobuf (measured faster than Connect's gRPC client against connect-node servers; see tools/bench), each
 * balanced per request over every replica its URL names (createServiceTransport) and each call carrying
 * `interceptors` (the service credential's in production). `transports` replaces a backend's URL: a Transport is
 * used as it is (tests), an in-process transport (a backend started in this process) gets `interceptors` like a
 * URL's would.
 */
export function connectBackends(
  urls: BackendUrls,
  interceptors: Interceptor[],
  transports: Partial<Record<keyof Backends, Transport | InProcessTransport>> = {},
): Backends {
  const reach = (name: keyof Backends, url: string): Transport => {
    const given = transports[name];
    if (given === undefined) {
      return createServiceTransport(url, {
        name,
        interceptors,
        session: { pingIntervalMs: 30_000 },
        ...(urls.UPSTREAM_RESOLVE_MS === undefined ? {} : { resolveIntervalMs: urls.UPSTREAM_RESOLVE_MS }),
      });
    }
    return typeof given === "function" ? given({ interceptors }) : given;
  };
  return {
    ledger: createClient(LedgerService, reach("ledger", urls.LEDGER_URL)),
    fx: createClient(FxService, reach("fx", urls.FX_URL)),
    fraud: createClient(FraudService, reach("fraud", urls.FRAUD_URL)),
    identity: createClient(IdentityService, reach("identity", urls.IDENTITY_URL)),
  };
}
