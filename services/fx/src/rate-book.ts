import type { Decimal } from "@fintech/money";
import { formatRate, invertRate, parseRate } from "@fintech/money";

/** A rate as it was set for one direction of a pair: 1 base = rate quote. */
export interface StoredRate {
  base: string;
  quote: string;
  rate: Decimal;
  source: string;
  updatedAt: Date;
}

export type Derivation = "direct" | "inverse" | "cross";

export interface ResolvedRate {
  base: string;
  quote: string;
  rate: Decimal;
  derivation: Derivation;
  source: string;
  /** The newest updatedAt of the stored rates it was derived from. */
  updatedAt: Date;
}

/**
 * An immutable snapshot of every stored rate, answering any pair in O(1) map look-ups: the stored
 * direction, its inverse, or a cross through the pivot (or, failing that, through any currency that
 * has a rate to both).
 */
export class RateBook {
  readonly #rates = new Map<string, StoredRate>();
  readonly #currencies = new Set<string>();

  constructor(
    readonly pivot: string,
    rates: Iterable<StoredRate>,
  ) {
    this.#currencies.add(pivot);
    for (const r of rates) {
      this.#rates.set(key(r.base, r.quote), r);
      this.#currencies.add(r.base);
      this.#currencies.add(r.quote);
    }
  }

  /** Currencies that have a rate to something, plus the pivot. */
  get currencies(): ReadonlySet<string> {
    return this.#currencies;
  }

  has(code: string): boolean {
    return this.#currencies.has(code);
  }

  /** The stored rate in either direction, as set. */
  stored(base: string, quote: string): StoredRate | undefined {
    return this.#rates.get(key(base, quote)) ?? this.#rates.get(key(quote, base));
  }

  resolve(base: string, quote: string): ResolvedRate | undefined {
    const leg = this.#leg(base, quote);
    if (leg) return leg;
    const via = [this.pivot, ...this.#currencies].find(
      (c) => c !== base && c !== quote && this.#leg(base, c) && this.#leg(c, quote),
    );
    if (via === undefined) return undefined;
    // Both legs exist: `find` just checked them. Each is a stored rate or its inverse; multiply and divide
    // the stored rates exactly and round once, so an inverse leg adds no rounding of its own.
    const first = this.stored(base, via) as StoredRate;
    const second = this.stored(via, quote) as StoredRate;
    const num = (first.base === base ? first.rate : ONE).times(second.base === via ? second.rate : ONE);
    const den = (first.base === base ? ONE : first.rate).times(second.base === via ? ONE : second.rate);
    return {
      base,
      quote,
      rate: parseRate(formatRate(num.div(den))),
      derivation: "cross",
      source: first.source === second.source ? first.source : `${first.source}+${second.source}`,
      updatedAt: new Date(Math.max(first.updatedAt.getTime(), second.updatedAt.getTime())),
    };
  }

  #leg(base: string, quote: string): ResolvedRate | undefined {
    const direct = this.#rates.get(key(base, quote));
    if (direct) return { ...direct, derivation: "direct" };
    const inverse = this.#rates.get(key(quote, base));
    if (inverse) return { ...inverse, base, quote, rate: invertRate(inverse.rate), derivation: "inverse" };
    return undefined;
  }
}

const ONE = parseRate("1");
const key = (base: string, quote: string): string => `${base}/${quote}`;
