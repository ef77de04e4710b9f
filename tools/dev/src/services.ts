import { platformServices } from "@fintech/platform";

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

/** Every service of the platform, from libs/platform's service registry, each started from its main.ts. */
export const services: readonly DevService[] = platformServices.map(({ name, port, metricsPort, kind }) => ({
  name,
  entry: `services/${name}/src/main.ts`,
  port,
  metricsPort,
  kind,
}));

/** The admin `./dev start` creates when ADMIN_EMAIL is not set (its password is in .data/dev-admin-password). */
export const DEV_ADMIN_EMAIL = "admin@example.com";
