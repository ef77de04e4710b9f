import type { DescService } from "@bufbuild/protobuf";
import type { RestServiceName } from "@fintech/platform";
import { serviceRegistry, serviceUrl } from "@fintech/platform";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { AuditService } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import { PreferencesService } from "@fintech/proto/fintech/notifications/v1/preferences_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";

/** A service behind the gateway: its RPCs with google.api.http annotations become REST routes. */
export interface Backend {
  /** Short name, used in logs, metrics and /ready. */
  readonly name: string;
  /** Its APIs, in route order. */
  readonly services: readonly DescService[];
  /** The environment variable holding the service's base URL. */
  readonly env: string;
  /** Its URL under `./dev start`. */
  readonly defaultUrl: string;
}

// The APIs of every service the registry (libs/platform) marks `rest`, in route order: a REST service missing
// here, or one that is not REST, does not compile.
const apis = {
  identity: [IdentityService],
  fraud: [FraudService],
  wallet: [WalletService],
  fx: [FxService],
  analytics: [AnalyticsService],
  notifications: [WebhookService, AuditService, PreferencesService],
} as const satisfies Record<RestServiceName, readonly DescService[]>;

const backend = <N extends RestServiceName>(name: N) => ({
  name,
  services: apis[name],
  env: serviceRegistry[name].urlEnv,
  defaultUrl: serviceUrl(serviceRegistry[name]),
});

/**
 * Every backend the gateway routes to, with its URL variable and default from the service registry. A new
 * service joins the public API with `rest: true` in the registry, its API above and the google.api.http
 * annotations on its proto (a service with several APIs lists each); its URL variable becomes part of the gateway's config.
 */
export const backends = (Object.keys(apis) as RestServiceName[]).map(backend) satisfies readonly Backend[];
