import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** Encrypts endpoint secrets for the database and reads them back; see {@link createSecretBox}. */
export interface SecretBox {
  /** AES-256-GCM of `secret`, bound to `owner` (the endpoint id), as iv (12 bytes) + tag (16) + ciphertext. */
  seal(secret: string, owner: string): Buffer;
  /** The secret `seal` sealed for the same owner; throws when the key, the owner or the bytes differ. */
  open(sealed: Buffer, owner: string): string;
}

/**
 * The key used when WEBHOOK_SECRET_KEY is unset outside production: anyone can read it here, so it protects
 * nothing, but a laptop's `./dev start` needs no setup.
 */
export const DEVELOPMENT_SECRET_KEY = createHash("sha256")
  .update("fintech notifications development key")
  .digest();

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * A {@link SecretBox} under `key` (32 bytes). The endpoint id is the additional authenticated data, so a sealed
 * secret copied onto another endpoint's row does not open.
 */
export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error("an AES-256 key is 32 bytes");
  return {
    seal(secret, owner) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(Buffer.from(owner));
      const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), body]);
    },
    open(sealed, owner) {
      const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(owner));
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([
        decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    },
  };
}
