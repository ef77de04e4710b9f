import { connect } from "node:net";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
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
}

/**
 * Clients of the ledger, fx, fraud and identity over HTTP/2 cleartext with the Connect protocol and binary
 * protobuf (measured faster than Connect's gRPC client against connect-node servers; see tools/bench), each
 * call carrying `interceptors` (the service credential's in production). `transports` replaces a backend's
 * transport (tests).
 */
export function connectBackends(
  urls: BackendUrls,
  interceptors: Interceptor[],
  transports: Partial<Record<keyof Backends, Transport>> = {},
): Backends {
  const transport = (url: string) =>
    createConnectTransport({
      baseUrl: url,
      httpVersion: "2",
      useBinaryFormat: true,
      interceptors,
      pingIntervalMs: 30_000,
      nodeOptions: {
        createConnection: (authority: URL) =>
          connect({ host: authority.hostname, port: Number(authority.port || 80), noDelay: true }),
      },
    });
  return {
    ledger: createClient(LedgerService, transports.ledger ?? transport(urls.LEDGER_URL)),
    fx: createClient(FxService, transports.fx ?? transport(urls.FX_URL)),
    fraud: createClient(FraudService, transports.fraud ?? transport(urls.FRAUD_URL)),
    identity: createClient(IdentityService, transports.identity ?? transport(urls.IDENTITY_URL)),
  };
}
