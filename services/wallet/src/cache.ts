/**
 * A small in-process cache with a time to live (ms) and a size bound (the oldest entry goes first). Used for
 * what every payment reads and almost never changes: users' status and time zone, wallets.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (this.now() >= hit.until) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { value, until: this.now() + this.ttlMs });
    if (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry `match` is true for. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, { value }] of this.#entries) if (match(value)) this.#entries.delete(key);
  }
}
