import type { AuditOrigin } from "@fintech/auth";
import { auditEvent } from "@fintech/auth";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import type { CryptoKey, JSONWebKeySet, JWK } from "jose";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8 } from "jose";
import type pg from "pg";
import type { SigningKeyRow } from "./store.js";
import { store } from "./store.js";

const ALG = "EdDSA";
// Verifiers may run a little behind (clock skew, their own JWKS cache): publish a retired key this much longer.
const PUBLISH_MARGIN_MS = 60_000;

/** Settings of {@link createSigningKeyRing}. */
export interface SigningKeySettings {
  /** Access token lifetime, in milliseconds: a retired key stays published at least this long. */
  accessTtlMs: number;
  /** How long a rotated-in key is published before it signs, in milliseconds (verifiers must see it first). */
  activationDelayMs: number;
  /** How long a replica uses its loaded keys before reading them again, in milliseconds. */
  cacheMs: number;
}

interface LoadedKey extends SigningKeyRow {
  key: CryptoKey;
}

/**
 * identity's Ed25519 signing keys, kept in its schema (private keys as PKCS#8 PEM, never logged). The current
 * key is the newest one whose activation time has come; a rotation adds a key that is published at once but
 * signs only after `activationDelayMs`, and the old key stays in the JWKS until every token it can have signed
 * has expired (retirement + access TTL + this replica's cache time + a minute), after which it is deleted.
 */
export function createSigningKeyRing(deps: { pool: pg.Pool; clock: Clock; settings: SigningKeySettings }) {
  const { pool, clock, settings } = deps;
  const publishedFor = settings.accessTtlMs + settings.cacheMs + PUBLISH_MARGIN_MS;
  let loaded: LoadedKey[] | undefined;
  let loadedAt = 0;
  let loading: Promise<LoadedKey[]> | undefined;

  function reload(): Promise<LoadedKey[]> {
    loading ??= (async () => {
      const rows = await store.signingKeys(pool);
      const keys = await Promise.all(
        rows.map(async (r) => ({ ...r, key: await importPKCS8(r.privateKey, ALG) })),
      );
      loaded = keys;
      loadedAt = clock.now().getTime();
      return keys;
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  async function keys(): Promise<LoadedKey[]> {
    if (loaded !== undefined && clock.now().getTime() - loadedAt < settings.cacheMs) return loaded;
    return reload();
  }

  async function newKey(now: Date, activatesAt: Date): Promise<SigningKeyRow> {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    return {
      kid,
      publicJwk: { kty: String(jwk.kty), crv: String(jwk.crv), x: String(jwk.x), kid, alg: ALG, use: "sig" },
      privateKey: await exportPKCS8(privateKey),
      createdAt: now,
      activatesAt,
      retiredAt: null,
    };
  }

  return {
    /** Creates the first key when there is none (first start; safe when replicas start together). */
    async ensure(): Promise<boolean> {
      const created = await withTransaction(pool, async (tx) => {
        await store.lockSigningKeys(tx);
        if ((await store.countSigningKeys(tx)) > 0) return false;
        const now = clock.now();
        await store.insertSigningKey(tx, await newKey(now, now));
        return true;
      });
      await reload();
      return created;
    },

    /**
     * Adds a new key that becomes current after the activation delay; the current one retires then. An admin's
     * rotation (`origin`) is audited: the new key's id and when it signs, never the key.
     */
    async rotate(origin?: AuditOrigin): Promise<{ kid: string; createdAt: Date; activatesAt: Date }> {
      const now = clock.now();
      const activatesAt = new Date(now.getTime() + settings.activationDelayMs);
      const next = await newKey(now, activatesAt);
      await withTransaction(pool, async (tx) => {
        await store.lockSigningKeys(tx);
        await store.retireSigningKeys(tx, activatesAt);
        await store.insertSigningKey(tx, next);
        await store.deleteSigningKeysRetiredBefore(tx, new Date(now.getTime() - publishedFor));
        if (origin !== undefined) {
          await enqueue(
            tx,
            auditEvent(origin, {
              subjectType: "signing_key",
              subjectId: next.kid,
              after: { kid: next.kid, activates_at: activatesAt.toISOString() },
              occurredAt: now,
            }),
          );
        }
      });
      await reload();
      return { kid: next.kid, createdAt: now, activatesAt };
    },

    /** The key to sign with now. */
    async signer(): Promise<{ kid: string; privateKey: CryptoKey }> {
      const now = clock.now().getTime();
      const all = await keys();
      const active = all.filter((k) => k.activatesAt.getTime() <= now);
      const current =
        active.findLast((k) => k.retiredAt === null || k.retiredAt.getTime() > now) ??
        active.at(-1) ??
        all[0];
      if (current === undefined) throw new Error("no signing key: ensure() was not called");
      return { kid: current.kid, privateKey: current.key };
    },

    /** The public keys verifiers must know now. `fresh` reads them from the database first. */
    async jwks(opts: { fresh?: boolean } = {}): Promise<JSONWebKeySet> {
      const all = opts.fresh ? await reload() : await keys();
      const now = clock.now().getTime();
      return {
        keys: all
          .filter((k) => k.retiredAt === null || k.retiredAt.getTime() + publishedFor > now)
          .map((k): JWK => ({ ...k.publicJwk })),
      };
    },
  };
}

export type SigningKeyRing = ReturnType<typeof createSigningKeyRing>;
