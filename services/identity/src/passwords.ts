import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { hash, parseOptions, verify } from "@node-rs/argon2";

/** argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. */
  memoryCost: number;
  /** Passes over the memory. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

/** OWASP's argon2id recommendation (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane. */
export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// @node-rs/argon2 declares its Algorithm as a const enum, which isolatedModules cannot read: 2 is Argon2id.
const ARGON2ID = 2;

/** Hashes and checks passwords; see {@link createPasswordHasher}. */
export interface PasswordHasher {
  /** A PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) with a fresh 16-byte salt. */
  hash(password: string): Promise<string>;
  /** Whether `password` matches the PHC string; false (never a throw) for a malformed one. */
  verify(phc: string, password: string): Promise<boolean>;
  /** Burns the time of one verification, for logins of unknown emails (no timing difference to tell them apart). */
  verifyNothing(password: string): Promise<void>;
  /** True when the PHC string was made with other parameters (or another algorithm) than the current ones. */
  needsRehash(phc: string): boolean;
}

/**
 * argon2id through @node-rs/argon2, whose hash and verify run on libuv's thread pool, off the event loop.
 * At most `concurrency` hashes run at once (default: one less than the number of CPUs, at least 1) and the rest
 * queue, so a login flood neither exhausts memory (19 MiB each) nor takes every core and pool thread from the
 * other requests.
 */
export function createPasswordHasher(
  opts: { params?: Argon2Params; concurrency?: number } = {},
): PasswordHasher {
  const params = opts.params ?? OWASP_ARGON2ID;
  const options = { ...params, algorithm: ARGON2ID };
  const limit = limiter(
    opts.concurrency && opts.concurrency > 0 ? opts.concurrency : Math.max(1, availableParallelism() - 1),
  );
  let dummy: Promise<string> | undefined;

  const verifyPhc = (phc: string, password: string) => limit(() => verify(phc, password)).catch(() => false);

  return {
    hash: (password) => limit(() => hash(password, options)),
    verify: verifyPhc,
    async verifyNothing(password) {
      dummy ??= limit(() => hash(randomBytes(16).toString("hex"), options));
      await verifyPhc(await dummy, password);
    },
    needsRehash(phc) {
      try {
        const used = parseOptions(phc);
        return (
          used.algorithm !== ARGON2ID ||
          used.memoryCost !== params.memoryCost ||
          used.timeCost !== params.timeCost ||
          used.parallelism !== params.parallelism
        );
      } catch {
        return true;
      }
    },
  };
}

/** Runs at most `max` of the given tasks at once, first come first served. */
function limiter(max: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
