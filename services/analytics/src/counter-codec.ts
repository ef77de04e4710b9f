// How a counter's typed key becomes the field name it is stored under, and back. The same names are the fields
// of the Redis hot hashes ("<day>|<field>"), the keys of the counters JSON in hot_aggregates, day_aggregates
// and pending_batches, so the format is fixed: parts joined with "|", in the order a layout declares them, and a
// "|" inside a free-text part written as "_" so that a name always splits back into the same parts.

declare const counterFieldBrand: unique symbol;

/** A counter's stored field name. Only a codec makes one; storage gives back what a codec made. */
export type CounterField = string & { readonly [counterFieldBrand]: true };

/** A part of free text (a category, a currency, a provider, a rule). */
export const TEXT = "text";

/** What a part may hold: free text, or one of a fixed list of words. */
export type PartSpec = typeof TEXT | readonly string[];

/** The parts of a field name, in stored order: [name in the key, what it may hold]. */
export type Layout = readonly (readonly [string, PartSpec])[];

type PartValue<S extends PartSpec> = S extends readonly (infer W)[] ? W : string;

/** The typed key of a layout: one property per part. */
export type KeyOf<L extends Layout> = { readonly [P in L[number] as P[0]]: PartValue<P[1]> };

/** The typed keys of tagged layouts: the tag (the name's first part) in `counter`, then the tag's own parts. */
export type TaggedKey<T extends Record<string, Layout>> = {
  [N in keyof T & string]: { readonly counter: N } & KeyOf<T[N]>;
}[keyof T & string];

/** Turns typed keys into stored field names and back. */
export interface FieldCodec<K> {
  encode(key: K): CounterField;
  /**
   * The key of a stored field name; undefined when the name is not of this codec's layout (another scope's
   * counter, or a word this version does not know). Answers are shared: never modify one.
   */
  decode(field: string): K | undefined;
}

const SEPARATOR = "|";
/** Decoded names kept per codec at most: the same few names repeat across every day of every scope. */
const MEMO_LIMIT = 100_000;

const clean = (part: string): string => (part.includes(SEPARATOR) ? part.replaceAll(SEPARATOR, "_") : part);

function memoised<K>(decode: (field: string) => K | undefined): (field: string) => K | undefined {
  const memo = new Map<string, K | undefined>();
  return (field) => {
    if (memo.has(field)) return memo.get(field);
    const key = decode(field);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(field, key);
    return key;
  };
}

/** A codec for one layout: `fieldCodec([["kind", KINDS], ["currency", TEXT]])` names `{kind, currency}`. */
export function fieldCodec<const L extends Layout>(layout: L): FieldCodec<KeyOf<L>> {
  const names = layout.map(([name]) => name);
  const words = layout.map(([, spec]) => (spec === TEXT ? undefined : new Set<string>(spec)));
  return {
    encode(key) {
      const parts: Readonly<Record<string, string>> = key;
      return names.map((name) => clean(parts[name] ?? "")).join(SEPARATOR) as CounterField;
    },
    decode: memoised((field) => {
      const parts = field.split(SEPARATOR);
      if (parts.length !== names.length) return undefined;
      const key: Record<string, string> = {};
      for (let i = 0; i < names.length; i++) {
        const part = parts[i] ?? "";
        if (words[i]?.has(part) === false) return undefined;
        key[names[i] ?? ""] = part;
      }
      return Object.freeze(key) as KeyOf<L>;
    }),
  };
}

/**
 * A codec for counters whose first part (the tag) says what the other parts are:
 * `taggedCodec({ score: [["metric", ["sum"]]], flag: [["rule", TEXT], ["metric", ["n"]]] })` names
 * `{counter: "score", metric: "sum"}` "score|sum" and `{counter: "flag", rule, metric: "n"}` "flag|<rule>|n".
 */
export function taggedCodec<const T extends Record<string, Layout>>(layouts: T): FieldCodec<TaggedKey<T>> {
  const codecs = new Map<string, FieldCodec<Readonly<Record<string, string>>>>(
    Object.entries(layouts).map(([tag, layout]) => [tag, fieldCodec(layout)]),
  );
  return {
    encode(key) {
      const codec = codecs.get(key.counter);
      if (codec === undefined) throw new Error(`no counter layout "${key.counter}"`);
      return `${key.counter}${SEPARATOR}${codec.encode(key)}` as CounterField;
    },
    decode: memoised((field) => {
      const bar = field.indexOf(SEPARATOR);
      if (bar === -1) return undefined;
      const counter = field.slice(0, bar);
      const rest = codecs.get(counter)?.decode(field.slice(bar + 1));
      return rest === undefined ? undefined : (Object.freeze({ ...rest, counter }) as TaggedKey<T>);
    }),
  };
}

/** Length of a day, YYYY-MM-DD: the day in front of a hot field. */
const DAY_LENGTH = 10;

/** The fields of a scope's Redis hot hash: the day, then the counter's field ("<YYYY-MM-DD>|<field>"). */
export const hotField = {
  encode(day: string, field: CounterField): string {
    return `${day}${SEPARATOR}${field}`;
  },
  /** undefined for a field that is not a day's counter. */
  decode(name: string): { day: string; field: CounterField } | undefined {
    if (name.indexOf(SEPARATOR) !== DAY_LENGTH) return undefined;
    return { day: name.slice(0, DAY_LENGTH), field: name.slice(DAY_LENGTH + 1) as CounterField };
  },
};
