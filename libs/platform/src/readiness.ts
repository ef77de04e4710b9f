/** What a check answers when its dependency is reachable. */
export const READY = "ok";

/** How long one dependency may take to answer, in ms. */
export const READINESS_TIMEOUT_MS = 1_000;

/**
 * The dependencies a service cannot serve without. Each is the client the service already holds, typed by the
 * little a check needs, so libs/platform depends on no client library.
 */
export interface ReadinessDeps {
  /** Postgres (a pg Pool): reachable when it answers `SELECT 1`. */
  db?: { query(sql: string): Promise<unknown> } | undefined;
  /**
   * NATS (a NatsConnection): reachable when it is open and answers a PING. A connection that is reconnecting
   * is not: its rtt() rejects at once instead of queueing the PING until it is back.
   */
  nats?: { isClosed(): boolean; rtt(): Promise<unknown> } | undefined;
  /** Redis (an ioredis client, best with `enableOfflineQueue: false` so an outage fails fast): PING -> PONG. */
  redis?: { ping(): Promise<string> } | undefined;
  /**
   * Further checks by name, each resolving {@link READY} or what is wrong (a rejection counts as unavailable).
   * Each bounds its own wait (a Health call its deadline): `timeoutMs` does not apply to them.
   */
  more?: Readonly<Record<string, () => Promise<string>>> | undefined;
  /** How long the Postgres, NATS and Redis checks may each take, in ms. Default {@link READINESS_TIMEOUT_MS}. */
  timeoutMs?: number | undefined;
}

/** Every dependency's answer: {@link READY}, or what is wrong (`unavailable: <reason>`, `unexpected answer ...`). */
export interface ReadinessReport {
  ready: boolean;
  /** By dependency: "postgres", "nats", "redis", then the names in `more`. */
  checks: Record<string, string>;
}

/**
 * Asks every given dependency at once, Postgres, NATS and Redis each within `timeoutMs` (default 1 s), and
 * reports each answer. A check that throws or does not answer in time is `unavailable: <message>`; the report
 * itself never rejects.
 */
export function createReadinessReport(deps: ReadinessDeps): () => Promise<ReadinessReport> {
  const timeoutMs = deps.timeoutMs ?? READINESS_TIMEOUT_MS;
  const checks: Array<[string, () => Promise<string>]> = [];
  const { db, nats, redis } = deps;
  if (db !== undefined) {
    checks.push(["postgres", () => withTimeout(db.query("SELECT 1"), timeoutMs).then(() => READY)]);
  }
  if (nats !== undefined) {
    checks.push([
      "nats",
      async () => {
        if (nats.isClosed()) throw new Error("connection closed");
        await withTimeout(nats.rtt(), timeoutMs);
        return READY;
      },
    ]);
  }
  if (redis !== undefined) {
    checks.push([
      "redis",
      async () => {
        const pong = await withTimeout(redis.ping(), timeoutMs);
        return pong === "PONG" ? READY : `unexpected answer ${pong}`;
      },
    ]);
  }
  checks.push(...Object.entries(deps.more ?? {}));

  return async () => {
    const answers = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch (err) {
          return [name, `unavailable: ${err instanceof Error ? err.message : String(err)}`] as const;
        }
      }),
    );
    const report = Object.fromEntries(answers);
    return { ready: answers.every(([, answer]) => answer === READY), checks: report };
  };
}

/** Why a readiness check said no: what each dependency that is away answered. */
export class NotReadyError extends Error {
  override readonly name = "NotReadyError";
  readonly checks: Record<string, string>;

  constructor(checks: Record<string, string>) {
    const away = Object.entries(checks).filter(([, answer]) => answer !== READY);
    super(`not ready: ${away.map(([name, answer]) => `${name} ${answer}`).join("; ")}`);
    this.checks = checks;
  }
}

/**
 * A service's readiness, for `createServer({ readiness })`: resolves true when every given dependency answers
 * (see {@link createReadinessReport}), and otherwise rejects with a {@link NotReadyError} naming the ones that
 * do not, which grpc.health.v1 logs (at warn) and reports as NOT_SERVING.
 *
 * @example readiness: createReadiness({ db: pool, nats: nc, redis })
 */
export function createReadiness(deps: ReadinessDeps): () => Promise<boolean> {
  const report = createReadinessReport(deps);
  return async () => {
    const { ready, checks } = await report();
    if (!ready) throw new NotReadyError(checks);
    return true;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
