import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox } from "./secret-box.js";

describe("the secret box", () => {
  it("opens what it sealed, and nothing sealed under another key or for another endpoint", () => {
    const box = createSecretBox(randomBytes(32));
    const endpoint = randomUUID();
    const sealed = box.seal("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0", endpoint);
    expect(sealed.includes(Buffer.from("c2VjcmV0"))).toBe(false);
    expect(box.open(sealed, endpoint)).toBe("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0");
    // A database dump without the key cannot sign: another key does not open it.
    expect(() => createSecretBox(randomBytes(32)).open(sealed, endpoint)).toThrow();
    // Nor does the sealed secret of one endpoint copied onto another's row.
    expect(() => box.open(sealed, randomUUID())).toThrow();
  });
});
