import { createHash } from "node:crypto";
import type { ChainableCommander, Redis } from "ioredis";
import type { Counters } from "./counters.js";

// Redis side of the aggregates. A scope's keys carry one of BUCKETS hash tags ({b0}..{b63}, from a hash of the
// scope), so every key of a scope lives in one cluster slot, and one Lua script can count a whole batch's
// scopes of one bucket: a batch costs at most BUCKETS script calls however many users it touches, and the
// aggregates still spread over BUCKETS slots of a cluster.
//   <prefix>an:{b<k>}:<scope>:hot      hash "<day>|<field>" -> integer (the hot days' counters)
//   <prefix>an:{b<k>}:<scope>:ver      hash "<day>" -> version, "*" -> the whole scope's version (query cache)
//   <prefix>an:{b<k>}:<scope>:q:<name> a cached query answer
//   <prefix>an:{b<k>}:applied          set of pending batch ids applied to the bucket, not yet deleted in Postgres

/** Hash-tag buckets. Fixed: changing it would lose track of the hot data already in Redis. */
const BUCKETS = 64;

/** FNV-1a of the scope, modulo the buckets. */
function bucketOf(scope: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < scope.length; i++) {
    h ^= scope.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % BUCKETS;
}

// Applies one pending batch's increments to the scopes of one bucket, once: the SADD of the batch id into the
// bucket's applied set and the increments happen in one atomic script.
// KEYS: applied set, then per scope its hot hash and its version hash.
// ARGV: batch id, then per scope: number of days, then per day: day, number of fields, field, delta...
const APPLY = `
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
local i = 2
for k = 2, #KEYS, 2 do
  local hot = KEYS[k]
  local ver = KEYS[k + 1]
  local days = tonumber(ARGV[i])
  i = i + 1
  for d = 1, days do
    local day = ARGV[i]
    local n = tonumber(ARGV[i + 1])
    i = i + 2
    for f = 1, n do
      redis.call('HINCRBY', hot, day .. '|' .. ARGV[i], ARGV[i + 1])
      i = i + 2
    end
    redis.call('HINCRBY', ver, day, 1)
  end
  redis.call('HINCRBY', ver, '*', 1)
end
return 1
`;

/** A Lua script run by SHA, loaded again when the server has forgotten it (restart, SCRIPT FLUSH). */
class Script {
  readonly sha: string;
  constructor(readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }
}

const apply = new Script(APPLY);

/** One scope's share of a pending batch: per day, field deltas (an empty map only bumps the day's version). */
export type ScopeBatch = Map<string, Counters>;

/** Options for {@link createHotStore}. */
export interface HotStoreOptions {
  redis: Redis;
  /** Put before every key (REDIS_PREFIX), e.g. "" in production or a test file's prefix. */
  prefix: string;
}

/** The Redis half of the aggregates; see the key layout above. */
export function createHotStore(opts: HotStoreOptions) {
  const { redis, prefix } = opts;
  const tag = (scope: string) => `${prefix}an:{b${bucketOf(scope)}}:`;
  const key = (scope: string, kind: string) => `${tag(scope)}${scope}:${kind}`;
  const appliedKey = (scope: string) => `${tag(scope)}applied`;

  /** The scopes of a batch grouped by bucket, as script keys and arguments. */
  function scripts(
    batchId: string,
    scopes: Map<string, ScopeBatch>,
  ): Array<{ keys: string[]; args: string[] }> {
    const byBucket = new Map<string, { keys: string[]; args: string[] }>();
    for (const [scope, days] of scopes) {
      const applied = appliedKey(scope);
      let entry = byBucket.get(applied);
      if (entry === undefined) {
        entry = { keys: [applied], args: [batchId] };
        byBucket.set(applied, entry);
      }
      entry.keys.push(key(scope, "hot"), key(scope, "ver"));
      entry.args.push(String(days.size));
      for (const [day, counters] of days) {
        entry.args.push(day, String(counters.size));
        for (const [name, value] of counters) entry.args.push(name, value.toString());
      }
    }
    return [...byBucket.values()];
  }

  async function runPipeline(
    build: (p: ChainableCommander) => void,
    retry: (p: ChainableCommander, index: number) => void,
  ): Promise<void> {
    const first = redis.pipeline();
    build(first);
    const results = (await first.exec()) ?? [];
    const again: number[] = [];
    results.forEach(([err], index) => {
      if (err !== null) {
        if (!err.message.startsWith("NOSCRIPT")) throw err;
        again.push(index);
      }
    });
    if (again.length === 0) return;
    const p = redis.pipeline();
    for (const index of again) retry(p, index);
    for (const [err] of (await p.exec()) ?? []) {
      if (err !== null) throw err;
    }
  }

  return {
    /**
     * Applies batch `batchId`'s increments to each scope, at most once per scope however often it is called
     * (until {@link forgetApplied} for that batch). One round trip for every scope.
     */
    async applyBatch(batchId: string, scopes: Map<string, ScopeBatch>): Promise<void> {
      const entries = scripts(batchId, scopes);
      if (entries.length === 0) return;
      await runPipeline(
        (p) => {
          for (const e of entries) p.evalsha(apply.sha, e.keys.length, ...e.keys, ...e.args);
        },
        (p, index) => {
          const e = entries[index];
          if (e !== undefined) p.eval(apply.lua, e.keys.length, ...e.keys, ...e.args);
        },
      );
    },

    /** Drops the applied-markers of a batch whose pending row is deleted (no one can apply it again). */
    async forgetApplied(batchId: string, scopes: Iterable<string>): Promise<void> {
      const sets = new Set<string>();
      for (const scope of scopes) sets.add(appliedKey(scope));
      if (sets.size === 0) return;
      const p = redis.pipeline();
      for (const set of sets) p.srem(set, batchId);
      await p.exec();
    },

    /** A scope's hot counters per day, for days from `from` to `to` inclusive (undefined: unbounded). */
    async readDays(scope: string, from?: string, to?: string): Promise<Map<string, Counters>> {
      const flat = await redis.hgetall(key(scope, "hot"));
      return groupByDay(flat, from, to);
    },

    /** Several scopes' hot counters per day, in one round trip. */
    async readScopes(scopes: string[]): Promise<Map<string, Map<string, Counters>>> {
      const p = redis.pipeline();
      for (const scope of scopes) p.hgetall(key(scope, "hot"));
      const results = (await p.exec()) ?? [];
      const out = new Map<string, Map<string, Counters>>();
      scopes.forEach((scope, i) => {
        const [err, flat] = results[i] ?? [null, {}];
        if (err !== null) throw err;
        out.set(scope, groupByDay(flat as Record<string, string>));
      });
      return out;
    },

    /** Deletes the given hot fields ("<day>|<field>") of each scope: a moved day's counters. */
    async deleteFields(fields: Map<string, string[]>): Promise<void> {
      const p = redis.pipeline();
      let n = 0;
      for (const [scope, names] of fields) {
        for (let i = 0; i < names.length; i += 1000) {
          p.hdel(key(scope, "hot"), ...names.slice(i, i + 1000));
          n++;
        }
      }
      if (n > 0) await p.exec();
    },

    /**
     * The versions of a scope's days (or of the whole scope, day "*") and a cached answer, in one round trip.
     * The token is the versions joined; an answer cached under another token is stale.
     */
    async cached(
      scope: string,
      name: string,
      days: string[],
    ): Promise<{ token: string; value: string | null }> {
      const [[verErr, versions], [getErr, value]] = ((await redis
        .pipeline()
        .hmget(key(scope, "ver"), ...days)
        .get(key(scope, `q:${name}`))
        .exec()) ?? []) as [[Error | null, (string | null)[]], [Error | null, string | null]];
      if (verErr !== null) throw verErr;
      if (getErr !== null) throw getErr;
      return { token: versions.map((v) => v ?? "0").join(","), value };
    },

    /** Caches an answer for `ttlMs` milliseconds. */
    async cache(scope: string, name: string, value: string, ttlMs: number): Promise<void> {
      await redis.set(key(scope, `q:${name}`), value, "PX", ttlMs);
    },

    /** The key of a scope's hot hash, or of one of its cached answers (tests and tools). */
    keyOf: key,
  };
}

export type HotStore = ReturnType<typeof createHotStore>;

function groupByDay(flat: Record<string, string>, from?: string, to?: string): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const [name, value] of Object.entries(flat)) {
    const bar = name.indexOf("|");
    if (bar !== 10) continue;
    const day = name.slice(0, bar);
    if ((from !== undefined && day < from) || (to !== undefined && day > to)) continue;
    let counters = out.get(day);
    if (counters === undefined) {
      counters = new Map();
      out.set(day, counters);
    }
    counters.set(name.slice(bar + 1), BigInt(value));
  }
  return out;
}
