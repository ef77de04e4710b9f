import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { CounterField } from "./counter-codec.js";
import { hotField } from "./counter-codec.js";
import type { Counters } from "./counters.js";

// Redis side of the aggregates. A scope's keys carry one of BUCKETS hash tags ({b0}..{b63}, from a hash of the
// scope), so every key of a scope lives in one cluster slot, and one Lua script can count a whole batch's
// scopes of one bucket: a batch costs at most BUCKETS script calls however many users it touches, and the
// aggregates still spread over BUCKETS slots of a cluster.
//   <prefix>an:{b<k>}:<scope>:hot      hash "<day>|<field>" -> integer (the hot days' counters; names from
//                                      counter-codec.ts' hotField)
//   <prefix>an:{b<k>}:<scope>:ver      hash "<day>" -> version, "*" -> the whole scope's version (query cache)
//   <prefix>an:{b<k>}:<scope>:q:<name> a cached query answer
//   <prefix>an:{b<k>}:applied          set of pending batch ids applied to the bucket, not yet deleted in Postgres
//   <prefix>an:{b<k>}:gen              the bucket's marker: the generation of the hot store (hot_state) it was
//                                      built for. Missing: Redis lost the bucket (restart without persistence,
//                                      FLUSHALL, failover to an empty replica); see hot-guard.ts.

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
// bucket's applied set and the increments happen in one atomic script. A bucket without its marker lost its
// data: incrementing what is left would make it look whole, so the script refuses (-1) unless forced, and the
// batch stays pending until the bucket is rebuilt (the rebuild counts it from Postgres).
// KEYS: marker, applied set, then per scope its hot hash and its version hash.
// ARGV: batch id, "force" or "", then per scope: number of days, then per day: day, number of fields, hot field
// ("<day>|<field>", made by hotField), delta...
const APPLY = `
if ARGV[2] ~= 'force' and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
local i = 3
for k = 3, #KEYS, 2 do
  local hot = KEYS[k]
  local ver = KEYS[k + 1]
  local days = tonumber(ARGV[i])
  i = i + 1
  for d = 1, days do
    local day = ARGV[i]
    local n = tonumber(ARGV[i + 1])
    i = i + 2
    for f = 1, n do
      redis.call('HINCRBY', hot, ARGV[i], ARGV[i + 1])
      i = i + 2
    end
    redis.call('HINCRBY', ver, day, 1)
  end
  redis.call('HINCRBY', ver, '*', 1)
end
return 1
`;

// Writes a bucket's share of a rebuild: each scope's hot hash replaced by its counters in Postgres, the ids of
// the batches those counters already hold marked applied (so applying them later adds nothing), and, in the
// bucket's last call, the marker. Until the marker is back, APPLY refuses the bucket and queries of its scopes
// read Postgres. A bucket too big for one call takes several; the first writes a "building" key that the
// others require, so a Redis that restarts between them (or runs them out of order) never gets a marker over
// half a bucket.
// KEYS: marker, applied set, building key, then per scope its hot hash.
// ARGV: generation, "1" if first call of the bucket, "1" if last, number of batch ids, ids..., then per scope:
// number of fields, field, value...
const REBUILD = `
if ARGV[2] == '1' then
  redis.call('SET', KEYS[3], ARGV[1])
elseif redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return 0
end
local n = tonumber(ARGV[4])
local i = 5
for j = 1, n do
  redis.call('SADD', KEYS[2], ARGV[i])
  i = i + 1
end
for k = 4, #KEYS do
  redis.call('DEL', KEYS[k])
  local fields = tonumber(ARGV[i])
  i = i + 1
  for f = 1, fields do
    redis.call('HSET', KEYS[k], ARGV[i], ARGV[i + 1])
    i = i + 2
  end
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('DEL', KEYS[3])
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
const rebuild = new Script(REBUILD);

/** Hot fields written per rebuild script call at most (a scope is never split): no call blocks Redis long. */
const REBUILD_FIELDS_PER_CALL = 5000;

/** One scope's share of a pending batch: per day, field deltas (an empty map only bumps the day's version). */
export type ScopeBatch = Map<string, Counters>;

/** One scope's hot counters as Postgres holds them: per day, field -> value. */
export type ScopeCounters = Map<string, Counters>;

/** Options for {@link createHotStore}. */
export interface HotStoreOptions {
  redis: Redis;
  /** Put before every key (REDIS_PREFIX), e.g. "" in production or a test file's prefix. */
  prefix: string;
}

/** The Redis half of the aggregates; see the key layout above. */
export function createHotStore(opts: HotStoreOptions) {
  const { redis, prefix } = opts;
  /**
   * The generation the hot store must carry to be read (set by the guard from Postgres); undefined: any marker.
   * A marker from another generation is a Redis restored from an old snapshot or a stale replica: until the
   * guard rebuilds it, its counters and cached answers are not trusted.
   */
  let expected: string | undefined;
  const trusted = (gen: string | null) => gen !== null && (expected === undefined || gen === expected);
  const tag = (scope: string) => `${prefix}an:{b${bucketOf(scope)}}:`;
  const key = (scope: string, kind: string) => `${tag(scope)}${scope}:${kind}`;
  const appliedKey = (scope: string) => `${tag(scope)}applied`;
  const markerKey = (scope: string) => `${tag(scope)}gen`;
  const bucketMarkers = Array.from({ length: BUCKETS }, (_, b) => `${prefix}an:{b${b}}:gen`);

  /** The scopes of a batch grouped by bucket, as script keys and arguments. */
  function scripts(
    batchId: string,
    scopes: Map<string, ScopeBatch>,
    force: boolean,
  ): Array<{ keys: string[]; args: string[] }> {
    const byBucket = new Map<string, { keys: string[]; args: string[] }>();
    for (const [scope, days] of scopes) {
      const applied = appliedKey(scope);
      let entry = byBucket.get(applied);
      if (entry === undefined) {
        entry = { keys: [markerKey(scope), applied], args: [batchId, force ? "force" : ""] };
        byBucket.set(applied, entry);
      }
      entry.keys.push(key(scope, "hot"), key(scope, "ver"));
      entry.args.push(String(days.size));
      for (const [day, counters] of days) {
        entry.args.push(day, String(counters.size));
        for (const [name, value] of counters) entry.args.push(hotField.encode(day, name), value.toString());
      }
    }
    return [...byBucket.values()];
  }

  /** Runs scripts by SHA in one pipeline, loading the ones Redis has forgotten; returns each script's reply. */
  async function runScripts(
    script: Script,
    calls: Array<{ keys: string[]; args: string[] }>,
  ): Promise<unknown[]> {
    if (calls.length === 0) return [];
    const first = redis.pipeline();
    for (const c of calls) first.evalsha(script.sha, c.keys.length, ...c.keys, ...c.args);
    const replies: unknown[] = [];
    const again: number[] = [];
    ((await first.exec()) ?? []).forEach(([err, reply], index) => {
      if (err !== null) {
        if (!err.message.startsWith("NOSCRIPT")) throw err;
        again.push(index);
      }
      replies.push(reply);
    });
    if (again.length === 0) return replies;
    const p = redis.pipeline();
    for (const index of again) {
      const c = calls[index];
      if (c !== undefined) p.eval(script.lua, c.keys.length, ...c.keys, ...c.args);
    }
    ((await p.exec()) ?? []).forEach(([err, reply], i) => {
      if (err !== null) throw err;
      replies[again[i] ?? 0] = reply;
    });
    return replies;
  }

  return {
    /**
     * Applies batch `batchId`'s increments to each scope, at most once per scope however often it is called
     * (until {@link forgetApplied} for that batch). One round trip for every scope. Returns false when a bucket
     * refused because it lost its data (no marker): the batch must stay pending until the rebuild. `force`
     * applies to buckets without a marker too (only the first build, adopting an earlier version's Redis data).
     */
    async applyBatch(batchId: string, scopes: Map<string, ScopeBatch>, force = false): Promise<boolean> {
      const replies = await runScripts(apply, scripts(batchId, scopes, force));
      return replies.every((r) => r !== -1);
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

    /**
     * A scope's hot counters per day, for days from `from` to `to` inclusive (undefined: unbounded), read in one
     * transaction with its bucket's marker; undefined when the marker is missing (Redis lost the bucket: what is
     * left cannot be trusted) or from another generation than {@link expectGeneration}'s.
     */
    async readDays(scope: string, from?: string, to?: string): Promise<Map<string, Counters> | undefined> {
      const [[genErr, gen], [hotErr, flat]] = ((await redis
        .multi()
        .get(markerKey(scope))
        .hgetall(key(scope, "hot"))
        .exec()) ?? []) as [[Error | null, string | null], [Error | null, Record<string, string>]];
      if (genErr !== null) throw genErr;
      if (hotErr !== null) throw hotErr;
      if (!trusted(gen)) return undefined;
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

    /** The hot fields ("<day>|<field>") Redis holds for each of `pairs`, per scope, in one round trip. */
    async fieldsOf(pairs: Array<{ scope: string; day: string }>): Promise<Map<string, string[]>> {
      const days = new Map<string, Set<string>>();
      for (const { scope, day } of pairs) {
        const set = days.get(scope) ?? new Set();
        set.add(day);
        days.set(scope, set);
      }
      const scopes = [...days.keys()];
      const out = new Map<string, string[]>();
      if (scopes.length === 0) return out;
      const p = redis.pipeline();
      for (const scope of scopes) p.hkeys(key(scope, "hot"));
      ((await p.exec()) ?? []).forEach(([err, names], i) => {
        if (err !== null) throw err;
        const scope = scopes[i] ?? "";
        const wanted = days.get(scope);
        const hit = (names as string[]).filter((n) => {
          const day = hotField.decode(n)?.day;
          return day !== undefined && wanted?.has(day) === true;
        });
        if (hit.length > 0) out.set(scope, hit);
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
     * The token is the bucket's generation and the versions joined; an answer cached under another token is
     * stale. The generation changes with every rebuild, so nothing cached before a rebuild (or computed while
     * Redis was empty) is served after it. undefined: the bucket has no trusted marker, nothing may be cached.
     */
    async cached(
      scope: string,
      name: string,
      days: string[],
    ): Promise<{ token: string; value: string | null } | undefined> {
      const [[genErr, gen], [verErr, versions], [getErr, value]] = ((await redis
        .pipeline()
        .get(markerKey(scope))
        .hmget(key(scope, "ver"), ...days)
        .get(key(scope, `q:${name}`))
        .exec()) ?? []) as [
        [Error | null, string | null],
        [Error | null, (string | null)[]],
        [Error | null, string | null],
      ];
      if (genErr !== null) throw genErr;
      if (verErr !== null) throw verErr;
      if (getErr !== null) throw getErr;
      if (!trusted(gen)) return undefined;
      return { token: `${gen}/${versions.map((v) => v ?? "0").join(",")}`, value };
    },

    /** Caches an answer for `ttlMs` milliseconds. */
    async cache(scope: string, name: string, value: string, ttlMs: number): Promise<void> {
      await redis.set(key(scope, `q:${name}`), value, "PX", ttlMs);
    },

    /** Only a hot store built for `generation` is read from now on. */
    expectGeneration(generation: string): void {
      expected = generation;
    },

    /** Each bucket's marker, in bucket order: the generation it was built for, null when missing. */
    async markers(): Promise<Array<string | null>> {
      const p = redis.pipeline();
      for (const k of bucketMarkers) p.get(k);
      return ((await p.exec()) ?? []).map(([err, value]) => {
        if (err !== null) throw err;
        return typeof value === "string" ? value : null;
      });
    },

    /**
     * Replaces the hot store with `scopes` (every hot counter Postgres holds) and writes every bucket's marker
     * `generation`; `pending` are the ids of the pending batches those counters already include. A bucket's
     * marker is written last, so a bucket is either still unmarked or whole; the caller checks {@link markers}
     * afterwards and keeps new batches from committing meanwhile (see hot-guard.ts).
     */
    async rebuild(generation: string, scopes: Map<string, ScopeCounters>, pending: string[]): Promise<void> {
      const byBucket: Array<Array<[string, ScopeCounters]>> = Array.from({ length: BUCKETS }, () => []);
      for (const entry of scopes) byBucket[bucketOf(entry[0])]?.push(entry);
      const calls: Array<{ keys: string[]; args: string[] }> = [];
      byBucket.forEach((entries, b) => {
        const head = `${prefix}an:{b${b}}:`;
        const keys = [`${head}gen`, `${head}applied`, `${head}building`];
        let call = { keys: [...keys], args: [generation, "1", "0", String(pending.length), ...pending] };
        let fields = 0;
        for (const [scope, days] of entries) {
          const flat: string[] = [];
          for (const [day, counters] of days) {
            for (const [name, value] of counters) flat.push(hotField.encode(day, name), value.toString());
          }
          if (fields > 0 && fields + flat.length / 2 > REBUILD_FIELDS_PER_CALL) {
            calls.push(call);
            call = { keys: [...keys], args: [generation, "0", "0", "0"] };
            fields = 0;
          }
          call.keys.push(key(scope, "hot"));
          call.args.push(String(flat.length / 2), ...flat);
          fields += flat.length / 2;
        }
        call.args[2] = "1";
        calls.push(call);
      });
      // Loaded first, so that the calls below do not fail with NOSCRIPT and run again out of order.
      await redis.script("LOAD", rebuild.lua);
      for (let i = 0; i < calls.length; i += BUCKETS) await runScripts(rebuild, calls.slice(i, i + BUCKETS));
    },

    /** The key of a scope's hot hash, or of one of its cached answers (tests and tools). */
    keyOf: key,
  };
}

export type HotStore = ReturnType<typeof createHotStore>;

function groupByDay(flat: Record<string, string>, from?: string, to?: string): Map<string, Counters> {
  const out = new Map<string, Counters>();
  for (const [name, value] of Object.entries(flat)) {
    const decoded = hotField.decode(name);
    if (decoded === undefined) continue;
    const { day, field } = decoded;
    if ((from !== undefined && day < from) || (to !== undefined && day > to)) continue;
    let counters = out.get(day);
    if (counters === undefined) {
      counters = new Map<CounterField, bigint>();
      out.set(day, counters);
    }
    counters.set(field, BigInt(value));
  }
  return out;
}
