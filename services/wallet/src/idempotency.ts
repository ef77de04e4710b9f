import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import type { Queryable } from "@fintech/db";
import { connectError, errorInfoOf } from "@fintech/platform";
import type pg from "pg";
import { isWalletError, toConnectError, WalletError } from "./errors.js";

// Idempotency-Key (API.md): per caller and key, the hash of the request and, once answered, the answer
// itself (a success's response message, or a refusal), kept at least 24 hours. The same key with the same
// request gets that answer again, marked `idempotent-replayed: true`; another request under the key is
// IDEMPOTENCY_KEY_REUSED; a repeat arriving while the first still runs waits for it (up to waitMs) and
// then replays it, or is IDEMPOTENCY_KEY_IN_USE. Failures that say nothing about the request (a backend
// down, a bug) are not kept: the key is freed so that a retry runs again.

/** The request header carrying the key, as the gateway forwards it. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** The response header marking a replayed answer (the gateway passes it on as Idempotent-Replayed). */
export const REPLAYED_HEADER = "idempotent-replayed";

const MAX_KEY = 255;
/** How long a running call holds its key before another may take it over (a crashed replica), in ms. */
const RUNNING_LEASE_MS = 60_000;
const POLL_MS = 25;

interface StoredError {
  code: Code;
  reason: string;
  message: string;
  metadata: Record<string, string>;
}

interface KeyRecord {
  request_hash: Buffer;
  state: "running" | "done";
  response: Buffer | null;
  error: StoredError | null;
  locked_until: Date;
}

/** What a call with a key needs: who calls, the key, and the request as sent. */
export interface IdempotentCall<I extends DescMessage, O extends DescMessage> {
  principal: string;
  key: string;
  /** The RPC, e.g. "fintech.wallet.v1.WalletService/FundWallet": part of what makes two requests the same. */
  method: string;
  input: I;
  request: MessageShape<I>;
  output: O;
}

export interface IdempotencySettings {
  ttlMs: number;
  waitMs: number;
}

/** Checks a client's key: 1-255 characters. */
export function checkKey(key: string): void {
  if (key.length < 1 || key.length > MAX_KEY) {
    throw new WalletError("VALIDATION_ERROR", `the idempotency key must be 1 to ${MAX_KEY} characters`, {
      field: IDEMPOTENCY_KEY_HEADER,
    });
  }
}

export function createIdempotency(deps: {
  pool: pg.Pool;
  clock: { now(): Date };
  settings: IdempotencySettings;
}) {
  const { pool, clock, settings } = deps;
  // Calls with a key running in this process: repeats wait on these before polling the table.
  const running = new Map<string, Promise<unknown>>();

  async function claim(db: Queryable, principal: string, key: string, hash: Buffer): Promise<boolean> {
    const now = clock.now();
    const { rowCount } = await db.query(
      `INSERT INTO idempotency_keys (principal, key, request_hash, state, locked_until, created_at, expires_at)
       VALUES ($1, $2, $3, 'running', $4, $5, $6)
       ON CONFLICT (principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, state = 'running',
         response = NULL, error = NULL, locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at,
         expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= $5
          OR (idempotency_keys.state = 'running' AND idempotency_keys.locked_until <= $5
              AND idempotency_keys.request_hash = EXCLUDED.request_hash)`,
      [
        principal,
        key,
        hash,
        new Date(now.getTime() + RUNNING_LEASE_MS),
        now,
        new Date(now.getTime() + settings.ttlMs),
      ],
    );
    return rowCount === 1;
  }

  async function read(principal: string, key: string): Promise<KeyRecord | undefined> {
    const { rows } = await pool.query<KeyRecord>(
      `SELECT request_hash, state, response, error, locked_until FROM idempotency_keys
       WHERE principal = $1 AND key = $2`,
      [principal, key],
    );
    return rows[0];
  }

  function replay<O extends DescMessage>(output: O, record: KeyRecord): MessageShape<O> {
    if (record.error !== null) {
      const e = record.error;
      const err = connectError(e.code, e.reason, e.message, e.metadata);
      err.metadata.set(REPLAYED_HEADER, "true");
      throw err;
    }
    return fromBinary(output, record.response ?? new Uint8Array());
  }

  /** The refusal to keep for replay, or undefined for failures that must not be kept. */
  function keepable(err: unknown): StoredError | undefined {
    const ce = isWalletError(err)
      ? err.reason === "UNAVAILABLE"
        ? undefined
        : toConnectError(err)
      : err instanceof ConnectError
        ? err
        : toConnectError(err);
    if (ce === undefined) return undefined;
    const info = errorInfoOf(ce);
    if (info === undefined || info.reason === "UNAVAILABLE" || info.reason === "INTERNAL") return undefined;
    return { code: ce.code, reason: info.reason, message: ce.rawMessage, metadata: info.metadata };
  }

  return {
    /**
     * Runs `fn` once per (principal, key): the first call runs it and keeps its answer; repeats replay that
     * answer (`replayed` true). Refuses a repeat with another request (IDEMPOTENCY_KEY_REUSED) or one that
     * finds the first still running after waitMs (IDEMPOTENCY_KEY_IN_USE).
     */
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      fn: () => Promise<MessageShape<O>>,
    ): Promise<{ response: MessageShape<O>; replayed: boolean }> {
      checkKey(call.key);
      const hash = createHash("sha256")
        .update(call.method)
        .update("\n")
        .update(toBinary(call.input, call.request))
        .digest();
      const local = `${call.principal}\u0000${call.key}`;
      const deadline = Date.now() + settings.waitMs;
      for (;;) {
        if (await claim(pool, call.principal, call.key, hash)) break;
        const record = await read(call.principal, call.key);
        if (record === undefined) continue; // freed in between: claim again
        if (!record.request_hash.equals(hash)) {
          throw new WalletError(
            "IDEMPOTENCY_KEY_REUSED",
            "this idempotency key was used with another request",
            { field: IDEMPOTENCY_KEY_HEADER },
          );
        }
        if (record.state === "done") return { response: replay(call.output, record), replayed: true };
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          throw new WalletError(
            "IDEMPOTENCY_KEY_IN_USE",
            "a request with this idempotency key is still running",
            {
              field: IDEMPOTENCY_KEY_HEADER,
            },
          );
        }
        const mine = running.get(local);
        if (mine !== undefined) {
          await Promise.race([mine.catch(() => undefined), sleep(remaining)]);
        } else {
          await sleep(Math.min(POLL_MS, remaining));
        }
      }

      const attempt = fn();
      running.set(local, attempt);
      try {
        const response = await attempt;
        await pool.query(
          `UPDATE idempotency_keys SET state = 'done', response = $3, locked_until = now()
           WHERE principal = $1 AND key = $2`,
          [call.principal, call.key, Buffer.from(toBinary(call.output, response))],
        );
        return { response, replayed: false };
      } catch (err) {
        const kept = keepable(err);
        if (kept === undefined) {
          await pool.query("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2", [
            call.principal,
            call.key,
          ]);
        } else {
          await pool.query(
            `UPDATE idempotency_keys SET state = 'done', error = $3, locked_until = now()
             WHERE principal = $1 AND key = $2`,
            [call.principal, call.key, JSON.stringify(kept)],
          );
        }
        throw err;
      } finally {
        if (running.get(local) === attempt) running.delete(local);
      }
    },

    /** Deletes keys past their time; returns how many. */
    async purge(limit = 10_000): Promise<number> {
      const { rowCount } = await pool.query(
        `DELETE FROM idempotency_keys WHERE ctid IN (
           SELECT ctid FROM idempotency_keys WHERE expires_at < $1 LIMIT $2)`,
        [clock.now(), limit],
      );
      return rowCount ?? 0;
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
