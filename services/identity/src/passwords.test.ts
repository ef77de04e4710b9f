import { describe, expect, it } from "vitest";
import { createPasswordHasher, OWASP_ARGON2ID } from "./passwords.js";

describe("createPasswordHasher", () => {
  it("makes an argon2id PHC string with the OWASP parameters that verifies only the right password", async () => {
    const hasher = createPasswordHasher();
    const phc = await hasher.hash("plum-Orchard-77");
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hasher.verify(phc, "plum-Orchard-77")).toBe(true);
    expect(await hasher.verify(phc, "plum-Orchard-78")).toBe(false);
    expect(await hasher.verify("not a hash", "plum-Orchard-77")).toBe(false);
    expect(hasher.needsRehash(phc)).toBe(false);
  });

  it("asks for a rehash when the parameters changed", async () => {
    const weak = createPasswordHasher({ params: { ...OWASP_ARGON2ID, memoryCost: 8_192, timeCost: 1 } });
    const phc = await weak.hash("plum-Orchard-77");
    expect(createPasswordHasher().needsRehash(phc)).toBe(true);
    expect(createPasswordHasher().needsRehash("$2b$10$abcdefghijklmnopqrstuv")).toBe(true);
  });

  it("hashes off the event loop: timers keep firing while hashes run", async () => {
    const hasher = createPasswordHasher({ concurrency: 2 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await Promise.all(Array.from({ length: 8 }, (_, i) => hasher.hash(`plum-Orchard-${i}`)));
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // Blocking hashes would leave the interval no turn at all until they were done.
    expect(ticks).toBeGreaterThan(Math.min(5, elapsed / 10));
  });
});
