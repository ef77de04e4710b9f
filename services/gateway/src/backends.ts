import type { DescService } from "@bufbuild/protobuf";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";

/** A service behind the gateway: its RPCs with google.api.http annotations become REST routes. */
export interface Backend {
  /** Short name, used in logs, metrics and /ready. */
  readonly name: string;
  readonly service: DescService;
  /** The environment variable holding the service's base URL. */
  readonly env: string;
  /** Its URL under `./dev start`. */
  readonly defaultUrl: string;
}

/**
 * Every backend the gateway routes to. A new service joins the public API with one line here (and the
 * google.api.http annotations on its proto); its URL variable becomes part of the gateway's config.
 */
export const backends = [
  { name: "identity", service: IdentityService, env: "IDENTITY_URL", defaultUrl: "http://127.0.0.1:50051" },
  { name: "fraud", service: FraudService, env: "FRAUD_URL", defaultUrl: "http://127.0.0.1:50054" },
  { name: "wallet", service: WalletService, env: "WALLET_URL", defaultUrl: "http://127.0.0.1:50052" },
  { name: "fx", service: FxService, env: "FX_URL", defaultUrl: "http://127.0.0.1:50055" },
  {
    name: "analytics",
    service: AnalyticsService,
    env: "ANALYTICS_URL",
    defaultUrl: "http://127.0.0.1:50056",
  },
] as const satisfies readonly Backend[];
