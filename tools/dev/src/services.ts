/** A process the launcher starts: gRPC services first, then the HTTP edge once they all serve. */
export interface DevService {
  name: string;
  entry: string;
  /** Default port; `<NAME>_PORT` overrides it. */
  port: number;
  metricsPort: number;
  /** How readiness is asked: grpc.health.v1 Check, or GET /health on an HTTP port. */
  kind: "grpc" | "http";
}

/** Every service of the platform. A new service adds one line here. */
export const services: readonly DevService[] = [
  { name: "identity", entry: "services/identity/src/main.ts", port: 50051, metricsPort: 9151, kind: "grpc" },
  { name: "wallet", entry: "services/wallet/src/main.ts", port: 50052, metricsPort: 9152, kind: "grpc" },
  { name: "ledger", entry: "services/ledger/src/main.ts", port: 50053, metricsPort: 9153, kind: "grpc" },
  { name: "fraud", entry: "services/fraud/src/main.ts", port: 50054, metricsPort: 9154, kind: "grpc" },
  { name: "fx", entry: "services/fx/src/main.ts", port: 50055, metricsPort: 9155, kind: "grpc" },
  {
    name: "analytics",
    entry: "services/analytics/src/main.ts",
    port: 50056,
    metricsPort: 9156,
    kind: "grpc",
  },
  { name: "gateway", entry: "services/gateway/src/main.ts", port: 8080, metricsPort: 9180, kind: "http" },
];

/** The admin `./dev start` creates when ADMIN_EMAIL is not set (its password is in .data/dev-admin-password). */
export const DEV_ADMIN_EMAIL = "admin@example.com";
