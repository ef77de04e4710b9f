/**
 * A clock that stands still until the test moves it: libs/platform's `Clock`, the `clock` dependency of
 * services whose rules depend on time (quote expiry, login backoff, fraud windows, day boundaries). It fits
 * that interface by shape rather than by import, because libs/platform's own tests use this package;
 * libs/platform's clock.test.ts checks the fit.
 */
export class TestClock {
  #now: Date;

  /** @param start the time it shows first (default 2026-03-01T08:00:00Z). */
  constructor(start: Date | string = "2026-03-01T08:00:00Z") {
    this.#now = new Date(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  set(at: Date | string): void {
    this.#now = new Date(at);
  }

  /** Moves it forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }
}
