import type { KeyObject } from "node:crypto";
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from "node:crypto";

// PKCS#8 DER of an Ed25519 private key is this prefix followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** Signs checkpoints of the audit chain and checks them. */
export interface AuditSigner {
  /** This service's public key, raw (32 bytes). */
  readonly publicKey: Buffer;
  /** True when the key was generated at start (no AUDIT_SIGNING_KEY): its checkpoints are trusted only until a restart. */
  readonly ephemeral: boolean;
  /** The Ed25519 signature of checkpoint (`seq`, `hash`). */
  sign(seq: bigint, hash: Buffer): Buffer;
  /** Whether `signature` is `publicKey`'s signature of checkpoint (`seq`, `hash`). */
  verify(publicKey: Buffer, seq: bigint, hash: Buffer, signature: Buffer): boolean;
  /** Whether `publicKey` is this service's or one of the trusted earlier keys. */
  trusts(publicKey: Buffer): boolean;
}

/** What a checkpoint signature covers: the chain head's seq and hash, under a fixed label. */
export const checkpointMessage = (seq: bigint, hash: Buffer): Buffer =>
  Buffer.from(`fintech-audit-checkpoint:v1:${seq}:${hash.toString("hex")}`);

const rawPublicKey = (key: KeyObject): Buffer =>
  Buffer.from(createPublicKey(key).export({ format: "jwk" }).x ?? "", "base64url");

const publicKeyOf = (raw: Buffer): KeyObject =>
  createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw.toString("base64url") }, format: "jwk" });

/**
 * The checkpoint signer: from `seed` (AUDIT_SIGNING_KEY, 32 bytes), or a key generated now when there is none
 * (development; the caller warns). `trusted` are earlier keys' raw public keys (AUDIT_TRUSTED_KEYS), whose
 * checkpoints verification still counts as trusted after a key change.
 */
export function createAuditSigner(seed: Buffer | undefined, trusted: readonly Buffer[] = []): AuditSigner {
  const privateKey =
    seed === undefined
      ? generateKeyPairSync("ed25519").privateKey
      : createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
  const publicKey = rawPublicKey(privateKey);
  const trustedKeys = [publicKey, ...trusted];
  return {
    publicKey,
    ephemeral: seed === undefined,
    sign: (seq, hash) => sign(null, checkpointMessage(seq, hash), privateKey),
    verify(key, seq, hash, signature) {
      try {
        return verify(null, checkpointMessage(seq, hash), publicKeyOf(key), signature);
      } catch {
        // Not an Ed25519 public key at all: what was stored is not a signature this service can check.
        return false;
      }
    },
    trusts: (key) => trustedKeys.some((k) => k.equals(key)),
  };
}
