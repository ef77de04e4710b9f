import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { admitLogin } from "./login-throttle.js";
import type { ThrottleRow } from "./store.js";

const s = { freeAttempts: 5, baseMs: 1_000, maxMs: 900_000, resetAfterMs: 3_600_000 };
const t0 = new Date("2030-01-01T00:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("admitLogin", () => {
  it("allows five failures freely, then waits 1 s, 2 s, 4 s ... up to 15 minutes", () => {
    let state: ThrottleRow = { failures: 0, lastFailureAt: t0, lockedUntil: null };
    let now = 0;
    const waits: number[] = [];
    for (let i = 0; i < 16; i++) {
      const r = admitLogin(state, at(now), s);
      if (!r.admitted) throw new Error(`attempt ${i + 1} refused`);
      state = r.next;
      const wait = state.lockedUntil === null ? 0 : state.lockedUntil.getTime() - at(now).getTime();
      waits.push(wait / 1000);
      now += wait;
    }
    expect(waits).toEqual([0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
  });

  it("refuses during the wait and says until when", () => {
    const state = { failures: 7, lastFailureAt: t0, lockedUntil: at(4_000) };
    expect(admitLogin(state, at(3_999), s)).toEqual({ admitted: false, retryAt: at(4_000) });
    expect(admitLogin(state, at(4_000), s).admitted).toBe(true);
  });

  it("forgets failures older than the reset period", () => {
    const state = { failures: 9, lastFailureAt: t0, lockedUntil: at(16_000) };
    const r = admitLogin(state, at(3_600_001), s);
    expect(r).toEqual({
      admitted: true,
      next: { failures: 1, lastFailureAt: at(3_600_001), lockedUntil: null },
    });
  });
});

describe("admitLogin properties", () => {
  it("never locks for longer than maxMs, and an attempt after maxMs is always admitted", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2_000_000 }), { maxLength: 60 }), (gaps) => {
        let state: ThrottleRow = { failures: 0, lastFailureAt: t0, lockedUntil: null };
        let now = 0;
        for (const gap of gaps) {
          now += gap;
          const r = admitLogin(state, at(now), s);
          if (!r.admitted) {
            expect(r.retryAt.getTime() - at(now).getTime()).toBeLessThanOrEqual(s.maxMs);
            continue;
          }
          state = r.next;
          expect((state.lockedUntil ?? at(now)).getTime() - at(now).getTime()).toBeLessThanOrEqual(s.maxMs);
        }
        expect(admitLogin(state, at(now + s.maxMs), s).admitted).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
