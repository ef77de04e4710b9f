import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { DescMessage, DescMethodUnary, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Code, HandlerContext } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import type { UserPrincipal } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import type { Clock } from "@fintech/platform";
import { connectError, errorInfoOf, getRequestId } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import { comparableRequest } from "./comparable-request.js";
import { isWalletError, toConnectError, WalletError } from "./errors.js";
import { groupCommit } from "./group-commit.js";
import { newId } from "./ids.js";
import type { KeyClaim } from "./store.js";

// Idempotency-Key (docs/api.md): per caller and key, the hash of the request and, once answered, the answer
// itself (a success's response message, or a refusal), kept at least 24 hours. The same key with the same
// request gets that answer again, marked `idempotent-replayed: true`; another request under the key is
// IDEMPOTENCY_KEY_REUSED; a repeat arriving while the first still runs waits for it (up to waitMs, and never
// past the caller's own deadline) and then replays it, or is IDEMPOTENCY_KEY_IN_USE.
//
// A key is bound to the transaction its request creates from the moment it is claimed: the claim fixes the
// transaction's id and every later attempt under the key (after a crash, a timeout, a lost answer, a failed
// write of the answer) gets the same id. The transactions primary key therefore lets the money move once,
// and an attempt that finds the transaction recorded answers it (driving it on if its driver is gone)
// instead of running the request again. Failures that say nothing about the request (a backend down, a bug)
// are not kept: the key is released at once so that a retry runs again, under the same transaction id.

/** The request header carrying the key, as the gateway forwards it. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** The response header marking a replayed answer (the gateway passes it on as Idempotent-Replayed). */
export const REPLAYED_HEADER = "idempotent-replayed";
/**
 * On a refusal kept under a key, first answer and replays alike: the request id and the time of the call that
 * was refused, which the gateway puts in the error body, so that every replay of it is the same body.
 */
export const ANSWER_REQUEST_ID_HEADER = "idempotent-request-id";
export const ANSWER_TIMESTAMP_HEADER = "idempotent-timestamp";

const MAX_KEY = 255;
/**
 * How long a running call holds its key before another may take it over (a crashed replica), in ms, when the
 * call has no deadline. A call with one holds it until a little after its deadline: by then its caller has
 * given up and a retry may take over (the bound transaction id keeps that from moving money twice).
 */
const RUNNING_LEASE_MS = 60_000;
const LEASE_AFTER_DEADLINE_MS = 1_000;
/** A repeat answers IDEMPOTENCY_KEY_IN_USE this long before its caller's deadline, so the answer arrives. */
const ANSWER_MARGIN_MS = 1_000;
const POLL_MS = 25;

interface StoredError {
  code: Code;
  reason: string;
  message: string;
  metadata: Record<string, string>;
  /** metadata's keys as answered (jsonb keeps its own key order); absent on refusals kept before it. */
  order?: string[];
  /** The refused call's request id and time (RFC 3339); absent on refusals kept before them. */
  requestId?: string;
  at?: string;
}

/** How a call under a key ended, to replay: its response message, or its refusal. */
interface KeptAnswer {
  principal: string;
  key: string;
  response?: Buffer;
  error?: StoredError;
}

interface KeyRecord {
  request_hash: Buffer;
  state: "running" | "done";
  response: Buffer | null;
  error: StoredError | null;
  locked_until: Date;
}

/**
 * What a key is bound to, handed to the call it guards. A call that creates a transaction creates it with
 * `transactionId`; one that changes an existing transaction (a reversal) calls `bindTo` inside the database
 * transaction that changes it.
 */
export interface KeyBinding {
  /** The id the call's new transaction must have: the same for every attempt under this key. */
  transactionId: string;
  /** Binds the key to the existing transaction `id`, on `db` (the transaction that changes it). */
  bindTo(db: Queryable, id: string): Promise<void>;
  /**
   * Present while the key is not claimed yet: the statement that records the call's transaction writes
   * `row` (store.record) and then says so with `claimed()`. When the key turns out to be taken, the call
   * throws without having written anything (KeyTaken) and runs again the ordinary way.
   */
  claim?: PendingClaim;
}

/** A key to claim in the statement that records the call's transaction. */
export interface PendingClaim {
  row: KeyClaim;
  /** From now on the key is the call's: its statement wrote the claim. */
  claimed(): void;
}

/** The statement recording a call's transaction found its Idempotency-Key taken and wrote nothing. */
export class KeyTaken extends Error {
  constructor() {
    super("the idempotency key is taken");
    this.name = "KeyTaken";
  }
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
  /** The call's request id: a refusal kept under the key answers with it every time. */
  requestId?: string;
  /** What is left of the caller's deadline, in ms (Connect's timeout header), or undefined for none. */
  timeoutMs?: number | undefined;
  /**
   * The answer for the transaction the key is bound to, when an earlier attempt recorded it, else undefined.
   * Without it (a call that moves no money), an attempt after a lost one runs the call again.
   */
  resume?: (transactionId: string) => Promise<MessageShape<O> | undefined>;
  /**
   * The key is claimed by the statement that records the call's transaction (`KeyBinding.claim`) rather
   * than on its own before the call runs: one commit fewer. Only for calls that record a transaction
   * whatever they do and that have no effect before recording it, since a repeat runs them up to there.
   */
  claimWithRecord?: boolean;
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

/** True when `err` is a refusal about transaction `id` itself (its answer, e.g. INSUFFICIENT_BALANCE). */
const isAbout = (err: unknown, id: string): boolean =>
  isWalletError(err) && err.details.transaction_id === id;

export function createIdempotency(deps: {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  settings: IdempotencySettings;
}) {
  const { pool, clock, logger, settings } = deps;
  // Calls with a key running in this process: repeats wait on these before polling the table.
  const running = new Map<string, Promise<unknown>>();
  // Concurrent calls' answers (a response, or a refusal to replay) are kept in one statement.
  const answers = groupCommit({
    statement: async (items: readonly KeptAnswer[]) => {
      await pool.query(
        `UPDATE idempotency_keys SET state = 'done', response = a.response, error = a.error, locked_until = now()
           FROM jsonb_to_recordset($1::jsonb) AS a(principal text, key text, response bytea, error jsonb)
          WHERE idempotency_keys.principal = a.principal AND idempotency_keys.key = a.key`,
        [
          JSON.stringify(
            items.map((a) => ({
              principal: a.principal,
              key: a.key,
              response: a.response === undefined ? null : `\\x${a.response.toString("hex")}`,
              error: a.error ?? null,
            })),
          ),
        ],
      );
      return items.map(() => undefined);
    },
    keysOf: (a) => [`${a.principal}\u0000${a.key}`],
  });

  /**
   * Claims the key: a new key, one past its time, or a running one whose holder's lease ran out (same
   * request only). Returns the transaction id the key is bound to, or undefined when someone else holds it
   * or it is done. A key taken over keeps its transaction id; a new or expired one gets `fresh`.
   */
  async function claim(
    db: Queryable,
    principal: string,
    key: string,
    hash: Buffer,
    fresh: string,
    leaseMs: number,
  ): Promise<string | undefined> {
    const now = clock.now();
    const { rows } = await db.query<{ transaction_id: string }>(
      `INSERT INTO idempotency_keys
         (principal, key, request_hash, state, locked_until, created_at, expires_at, transaction_id)
       VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
       ON CONFLICT (principal, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, state = 'running',
         response = NULL, error = NULL, locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at,
         expires_at = EXCLUDED.expires_at,
         transaction_id = CASE WHEN idempotency_keys.expires_at <= $5 THEN EXCLUDED.transaction_id
           ELSE COALESCE(idempotency_keys.transaction_id, EXCLUDED.transaction_id) END
       WHERE idempotency_keys.expires_at <= $5
          OR (idempotency_keys.state = 'running' AND idempotency_keys.locked_until <= $5
              AND idempotency_keys.request_hash = EXCLUDED.request_hash)
       RETURNING transaction_id`,
      [
        principal,
        key,
        hash,
        new Date(now.getTime() + leaseMs),
        now,
        new Date(now.getTime() + settings.ttlMs),
        fresh,
      ],
    );
    return rows[0]?.transaction_id;
  }

  async function read(principal: string, key: string): Promise<KeyRecord | undefined> {
    const { rows } = await pool.query<KeyRecord>(
      `SELECT request_hash, state, response, error, locked_until FROM idempotency_keys
       WHERE principal = $1 AND key = $2`,
      [principal, key],
    );
    return rows[0];
  }

  /** A kept refusal as it is answered, the first time (`replayed` false) and on every replay. */
  function refusal(e: StoredError, replayed: boolean): ConnectError {
    const metadata: Record<string, string> = {};
    for (const k of [...(e.order ?? []), ...Object.keys(e.metadata)]) {
      const v = e.metadata[k];
      if (v !== undefined && !(k in metadata)) metadata[k] = v;
    }
    const err = connectError(e.code, e.reason, e.message, metadata);
    if (e.requestId !== undefined) err.metadata.set(ANSWER_REQUEST_ID_HEADER, e.requestId);
    if (e.at !== undefined) err.metadata.set(ANSWER_TIMESTAMP_HEADER, e.at);
    if (replayed) err.metadata.set(REPLAYED_HEADER, "true");
    return err;
  }

  function replay<O extends DescMessage>(output: O, record: KeyRecord): MessageShape<O> {
    if (record.error !== null) throw refusal(record.error, true);
    return fromBinary(output, record.response ?? new Uint8Array());
  }

  /** The refusal to keep for replay, or undefined for failures that must not be kept. */
  function keepable(err: unknown, requestId: string | undefined): StoredError | undefined {
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
    return {
      code: ce.code,
      reason: info.reason,
      message: ce.rawMessage,
      metadata: info.metadata,
      order: Object.keys(info.metadata),
      ...(requestId !== undefined && requestId !== "" && { requestId }),
      at: clock.now().toISOString(),
    };
  }

  /**
   * Writes down how the call ended. The movement has happened (or not) whatever this write does: when the
   * database fails it here, the key stays running until its lease ends and the next attempt answers from the
   * bound transaction, so the failure is logged rather than turned into the caller's answer.
   */
  async function conclude(call: { principal: string; key: string }, write: () => Promise<unknown>) {
    try {
      await write();
    } catch (err) {
      logger.warn(
        { err, key_principal: call.principal },
        "how the call under an idempotency key ended was not saved; the key stays running until its lease ends",
      );
    }
  }

  /**
   * Runs `fn` under a key and writes down how it ended: the answer, or a refusal to replay; other failures
   * release the key. `takenOver`: the key came from an earlier attempt, whose transaction, when recorded, is
   * the answer. Returns undefined, with nothing written, when the call failed before its key was claimed
   * (`isClaimed` false: the key is claimed by the statement recording the transaction).
   */
  async function settle<I extends DescMessage, O extends DescMessage>(
    call: IdempotentCall<I, O>,
    fn: (binding: KeyBinding) => Promise<MessageShape<O>>,
    binding: KeyBinding,
    how: { local: string; takenOver: boolean; isClaimed: () => boolean },
  ): Promise<{ response: MessageShape<O>; replayed: boolean } | undefined> {
    const { resume } = call;
    const bound = binding.transactionId;
    // An answer for what an earlier attempt did is a replay of it, not a new execution.
    let resumed = false;
    // Failed before its key was claimed: nothing under the key is this call's (see `run`).
    let unclaimed = false;
    const attempt = (async (): Promise<MessageShape<O>> => {
      // Taken over from an earlier attempt: if it recorded the transaction, that is the answer.
      if (how.takenOver && resume !== undefined) {
        resumed = true;
        const earlier = await resume(bound);
        if (earlier !== undefined) return earlier;
        resumed = false;
      }
      let response: MessageShape<O>;
      try {
        response = await fn(binding);
      } catch (err) {
        if (!how.isClaimed()) {
          unclaimed = true;
          throw err;
        }
        // The transaction may exist even so: this attempt's own, when what failed came after recording it
        // (or the recording's answer was lost), or an earlier attempt's still running past its lease (this
        // insert then fails on the id, or the checks see the money gone). Then it is the answer.
        if (resume === undefined || isAbout(err, bound)) throw err;
        let earlier: MessageShape<O> | undefined;
        try {
          earlier = await resume(bound);
        } catch (lookup) {
          if (isWalletError(lookup)) {
            resumed = true;
            throw lookup;
          }
          // The database is likely away: the key is released below and a retry looks again.
          logger.warn({ err: lookup, transaction_id: bound }, "could not look for the key's transaction");
        }
        if (earlier === undefined) throw err;
        resumed = true;
        return earlier;
      }
      if (!how.isClaimed()) throw new Error("a call answered without claiming its key");
      return response;
    })();
    // Repeats in this process wait for the answer to be written down, not just computed: woken earlier,
    // they would find the key still running and spin until it is.
    const outcome = (async () => {
      try {
        const response = await attempt;
        await conclude(call, () =>
          answers.submit({
            principal: call.principal,
            key: call.key,
            response: Buffer.from(toBinary(call.output, response)),
          }),
        );
        return { response, replayed: resumed };
      } catch (err) {
        if (unclaimed) return undefined;
        const kept = keepable(err, call.requestId);
        if (kept === undefined) {
          // Released, not deleted: the key keeps its transaction id, so a retry of a call that did record
          // its transaction (the failure came after) answers it, and one that did not records it once.
          await conclude(call, () =>
            pool.query(
              `UPDATE idempotency_keys SET locked_until = $3 WHERE principal = $1 AND key = $2
                 AND state = 'running'`,
              [call.principal, call.key, clock.now()],
            ),
          );
          throw err;
        }
        await conclude(call, () => answers.submit({ principal: call.principal, key: call.key, error: kept }));
        // Answered from what was kept, so that every replay is this same answer. When resumed: the refusal
        // an earlier attempt's transaction ended in, replayed like a kept one.
        throw refusal(kept, resumed);
      }
    })();
    running.set(how.local, outcome);
    try {
      return await outcome;
    } finally {
      if (running.get(how.local) === outcome) running.delete(how.local);
    }
  }

  const idempotency = {
    /**
     * Runs `fn` once per (principal, key): the first call runs it and keeps its answer; repeats replay that
     * answer (`replayed` true). Refuses a repeat with another request (IDEMPOTENCY_KEY_REUSED) or one that
     * finds the first still running after waitMs, or near its own deadline (IDEMPOTENCY_KEY_IN_USE). An
     * attempt that takes over a key whose transaction an earlier attempt recorded answers it (`resume`).
     */
    async run<I extends DescMessage, O extends DescMessage>(
      call: IdempotentCall<I, O>,
      fn: (binding: KeyBinding) => Promise<MessageShape<O>>,
    ): Promise<{ response: MessageShape<O>; replayed: boolean }> {
      checkKey(call.key);
      const hash = createHash("sha256")
        .update(call.method)
        .update("\n")
        .update(toBinary(call.input, call.request))
        .digest();
      const local = `${call.principal}\u0000${call.key}`;
      const budget =
        call.timeoutMs === undefined
          ? settings.waitMs
          : Math.max(0, Math.min(settings.waitMs, call.timeoutMs - ANSWER_MARGIN_MS));
      const leaseMs =
        call.timeoutMs === undefined
          ? RUNNING_LEASE_MS
          : Math.min(RUNNING_LEASE_MS, Math.max(0, call.timeoutMs) + LEASE_AFTER_DEADLINE_MS);
      const deadline = Date.now() + budget;
      const fresh = newId(clock.now().getTime());
      const bindTo = async (db: Queryable, id: string): Promise<void> => {
        await db.query("UPDATE idempotency_keys SET transaction_id = $3 WHERE principal = $1 AND key = $2", [
          call.principal,
          call.key,
          id,
        ]);
      };

      if (call.claimWithRecord === true) {
        // The statement recording the transaction claims the key too: one commit fewer on the hot path. Until
        // it has, nothing is this call's: when the key turns out taken (a repeat, a retry, another request
        // under it) or the call fails before recording, it runs again the ordinary way below, which replays,
        // waits or claims as for any call.
        let claimed = false;
        const now = clock.now();
        const first = await settle(
          call,
          fn,
          {
            transactionId: fresh,
            bindTo,
            claim: {
              row: {
                principal: call.principal,
                key: call.key,
                requestHash: hash,
                transactionId: fresh,
                lockedUntil: new Date(now.getTime() + leaseMs),
                createdAt: now,
                expiresAt: new Date(now.getTime() + settings.ttlMs),
              },
              claimed: () => {
                claimed = true;
              },
            },
          },
          { local, takenOver: false, isClaimed: () => claimed },
        );
        if (first !== undefined) return first;
      }

      let transactionId: string;
      for (;;) {
        const claimed = await claim(pool, call.principal, call.key, hash, fresh, leaseMs);
        if (claimed !== undefined) {
          transactionId = claimed;
          break;
        }
        const record = await read(call.principal, call.key);
        if (record === undefined) continue; // purged in between: claim again
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
            { field: IDEMPOTENCY_KEY_HEADER },
          );
        }
        const mine = running.get(local);
        if (mine !== undefined) {
          await Promise.race([mine.catch(() => undefined), sleep(remaining)]);
        } else {
          await sleep(Math.min(POLL_MS, remaining));
        }
      }
      const settled = await settle(
        call,
        fn,
        { transactionId, bindTo },
        { local, takenOver: transactionId !== fresh, isClaimed: () => true },
      );
      if (settled === undefined) throw new Error("a claimed call ended as unclaimed");
      return settled;
    },

    /**
     * Runs the handler of RPC `method` for `principal` under the request's Idempotency-Key, when it has one
     * (`run`): a repeat gets the first answer again, with `idempotent-replayed: true`. A money-moving handler
     * creates its transaction under the key's binding and gives `resume`, which answers that transaction when
     * an earlier attempt recorded it; with `claimWithRecord` it claims the key in the statement that records
     * that transaction (see IdempotentCall).
     */
    async handle<I extends DescMessage, O extends DescMessage>(
      ctx: HandlerContext,
      principal: UserPrincipal,
      method: DescMethodUnary<I, O>,
      req: MessageShape<I>,
      fn: (binding?: KeyBinding) => Promise<MessageShape<O>>,
      resume?: (transactionId: string) => Promise<MessageShape<O> | undefined>,
      opts: { claimWithRecord?: boolean } = {},
    ): Promise<MessageShape<O>> {
      const key = ctx.requestHeader.get(IDEMPOTENCY_KEY_HEADER);
      if (key === null) return fn();
      const { response, replayed } = await idempotency.run(
        {
          principal: `user:${principal.userId}`,
          key,
          method: `${method.parent.typeName}/${method.name}`,
          input: method.input,
          request: comparableRequest(method.input, req),
          output: method.output,
          requestId: getRequestId(ctx),
          // The gateway's deadline: a repeat must answer IDEMPOTENCY_KEY_IN_USE before the gateway gives up.
          timeoutMs: ctx.timeoutMs(),
          ...(resume !== undefined && { resume }),
          ...(opts.claimWithRecord === true && { claimWithRecord: true }),
        },
        fn,
      );
      if (replayed) ctx.responseHeader.set(REPLAYED_HEADER, "true");
      return response;
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
  return idempotency;
}

export type Idempotency = ReturnType<typeof createIdempotency>;
