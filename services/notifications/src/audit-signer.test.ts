import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createAuditSigner } from "./audit-signer.js";

describe("audit checkpoint signer", () => {
  it("signs with the key AUDIT_SIGNING_KEY names, and a signature holds for that seq and hash only", () => {
    const seed = randomBytes(32);
    const signer = createAuditSigner(seed);
    expect(createAuditSigner(seed).publicKey).toEqual(signer.publicKey);
    const hash = createHash("sha256").update("head").digest();
    const signature = signer.sign(42n, hash);
    expect(signer.verify(signer.publicKey, 42n, hash, signature)).toBe(true);
    expect(signer.verify(signer.publicKey, 41n, hash, signature)).toBe(false);
    expect(
      signer.verify(signer.publicKey, 42n, createHash("sha256").update("other").digest(), signature),
    ).toBe(false);
    expect(signer.verify(Buffer.from("not a key"), 42n, hash, signature)).toBe(false);
  });

  it("trusts its own key and the earlier ones it is given, not a key someone else signed with", () => {
    const earlier = createAuditSigner(randomBytes(32));
    const stranger = createAuditSigner(undefined);
    const signer = createAuditSigner(randomBytes(32), [earlier.publicKey]);
    expect(signer.trusts(signer.publicKey)).toBe(true);
    expect(signer.trusts(earlier.publicKey)).toBe(true);
    expect(signer.trusts(stranger.publicKey)).toBe(false);
    expect(stranger.ephemeral).toBe(true);
    // A stranger's signature verifies with the stranger's key (so it is not "broken"), and is not trusted.
    const hash = randomBytes(32);
    expect(signer.verify(stranger.publicKey, 1n, hash, stranger.sign(1n, hash))).toBe(true);
  });
});
