import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** SHA-256 of a high-entropy secret (refresh token, API key, service secret); such secrets need no slow hash. */
export const sha256 = (text: string): Buffer => createHash("sha256").update(text).digest();

/** Compares two digests in constant time (false when the lengths differ). */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A new opaque refresh token: "rt_" and 256 random bits, base64url. */
export const newRefreshToken = (): string => `rt_${randomBytes(32).toString("base64url")}`;

const API_KEY = /^(fk_[0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;

/**
 * A new API key, "fk_<16 hex>_<43 base64url>": the first part is its prefix (the lookup, shown in lists, not
 * secret), the rest 256 random bits.
 */
export function newApiKey(): { key: string; prefix: string } {
  const prefix = `fk_${randomBytes(8).toString("hex")}`;
  return { key: `${prefix}_${randomBytes(32).toString("base64url")}`, prefix };
}

/** The prefix of a well-formed API key, undefined for anything else. */
export const apiKeyPrefix = (key: string): string | undefined => API_KEY.exec(key)?.[1];
