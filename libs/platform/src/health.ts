import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Health } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { HealthCheckResponse_ServingStatus as Status } from "@fintech/proto/grpc/health/v1/health_pb.js";
import type { Logger } from "pino";

/** What a service may say about its own health; the server reports it through grpc.health.v1.Health. */
export interface HealthReporter {
  /** Marks a service (default "", the whole server) SERVING. Ignored once the server is closing. */
  setServing(service?: string): void;
  /** Marks a service (default "", the whole server) NOT_SERVING. */
  setNotServing(service?: string): void;
  /** The current status of a service, undefined when it was never registered. */
  status(service?: string): Status | undefined;
}

/** The health state behind the reporter, with what only the server itself may do. */
export interface HealthState extends HealthReporter {
  /** Everything NOT_SERVING for good; watchers are told and their streams then end. */
  shutdown(): void;
  readonly terminal: boolean;
  /** Every registered service name, "" included. */
  services(): string[];
  subscribe(listener: () => void): () => void;
}

/** A health state with the given services (and "") SERVING. */
export function createHealthState(services: Iterable<string> = []): HealthState {
  const statuses = new Map<string, Status>([["", Status.SERVING]]);
  for (const service of services) {
    statuses.set(service, Status.SERVING);
  }
  const listeners = new Set<() => void>();
  let terminal = false;
  const set = (service: string, status: Status): void => {
    if (terminal || statuses.get(service) === status) {
      return;
    }
    statuses.set(service, status);
    for (const listener of listeners) {
      listener();
    }
  };
  return {
    setServing: (service = "") => set(service, Status.SERVING),
    setNotServing: (service = "") => set(service, Status.NOT_SERVING),
    status: (service = "") => statuses.get(service),
    shutdown() {
      for (const service of statuses.keys()) {
        set(service, Status.NOT_SERVING);
      }
      terminal = true;
      for (const listener of listeners) {
        listener();
      }
    },
    services: () => [...statuses.keys()],
    get terminal() {
      return terminal;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * grpc.health.v1.Health over a health state. Check of "" also asks `readiness` (when given) while SERVING, so a
 * lost database turns the server NOT_SERVING without the service having to push it. Watch streams every
 * change (changes in quick succession may be coalesced) and ends after the final NOT_SERVING on shutdown.
 */
export function createHealthService(
  state: HealthState,
  opts: { readiness?: (() => Promise<boolean>) | undefined; logger: Logger },
): ServiceImpl<typeof Health> {
  const effective = async (service: string): Promise<Status | undefined> => {
    const status = state.status(service);
    if (service !== "" || status !== Status.SERVING || opts.readiness === undefined) {
      return status;
    }
    try {
      return (await opts.readiness()) ? Status.SERVING : Status.NOT_SERVING;
    } catch (err) {
      opts.logger.warn({ err }, "readiness check failed");
      return Status.NOT_SERVING;
    }
  };

  return {
    async check(req) {
      const status = await effective(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
      }
      return { status };
    },

    async list() {
      const statuses: Record<string, { status: Status }> = {};
      for (const service of state.services()) {
        statuses[service] = { status: (await effective(service)) ?? Status.UNKNOWN };
      }
      return { statuses };
    },

    async *watch(req, ctx) {
      let dirty = false;
      let wake: (() => void) | undefined;
      const poke = (): void => {
        dirty = true;
        wake?.();
      };
      const unsubscribe = state.subscribe(poke);
      ctx.signal.addEventListener("abort", poke);
      try {
        let sent: Status | undefined;
        while (!ctx.signal.aborted) {
          dirty = false;
          const status = state.status(req.service) ?? Status.SERVICE_UNKNOWN;
          if (status !== sent) {
            sent = status;
            yield { status };
          }
          if (state.terminal) {
            return;
          }
          if (!dirty) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            wake = undefined;
          }
        }
      } finally {
        unsubscribe();
        ctx.signal.removeEventListener("abort", poke);
      }
    },
  };
}
