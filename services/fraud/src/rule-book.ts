import type { AuditOrigin } from "@fintech/auth";
import { auditEvent } from "@fintech/auth";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import { formatAmount, parseAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import type pg from "pg";
import { FraudError } from "./errors.js";
import type { RulePatch } from "./rules.js";
import { applyPatch, checkRules, DEFAULT_RULES, diffRules } from "./rules.js";
import type { CompiledRules } from "./scoring.js";
import { compileRules } from "./scoring.js";
import type { StoredRuleVersion } from "./store.js";
import { store } from "./store.js";

export interface RuleBookOptions {
  pool: pg.Pool;
  clock: Clock;
  baseCurrency: string;
  /** How long the rules in memory are used before they are read again, in milliseconds. */
  cacheTtlMs: number;
}

/** The rule set in force, as stored and compiled for scoring. */
export interface CurrentRules {
  stored: StoredRuleVersion;
  compiled: CompiledRules;
}

/**
 * The versioned rule set. Scoring reads it on every call, so it is served from memory and re-read at most
 * once per `cacheTtlMs` (single flight): another replica's change is seen within that time, this replica's
 * own change at once. The first read of an empty table writes version 1, the defaults.
 */
export function createRuleBook(options: RuleBookOptions) {
  const { pool, clock, baseCurrency, cacheTtlMs } = options;
  let current: CurrentRules | undefined;
  let loadedAt = 0;
  let loading: Promise<CurrentRules> | undefined;

  function use(stored: StoredRuleVersion): CurrentRules {
    // A row written by an older release may lack newer fields: they take their defaults.
    const rules = applyPatch(DEFAULT_RULES, stored.rules);
    const next = {
      stored: { ...stored, rules },
      compiled: compileRules(stored.version, rules, baseCurrency),
    };
    // A slow load that read an older version must not replace a newer one.
    if (!current || current.stored.version <= next.stored.version) {
      current = next;
      loadedAt = Date.now();
    }
    return current;
  }

  async function load(): Promise<CurrentRules> {
    let stored = await store.latestRules(pool);
    if (!stored) {
      await store.insertRuleVersion(pool, {
        version: 1,
        rules: DEFAULT_RULES,
        changedBy: "system",
        note: "defaults",
        changes: [],
        createdAt: clock.now(),
      });
      stored = await store.latestRules(pool);
      if (!stored) throw new Error("rule_versions is empty right after writing version 1");
    }
    return use(stored);
  }

  return {
    /** The rule set in force (from memory when fresh). */
    async current(): Promise<CurrentRules> {
      if (current && Date.now() - loadedAt < cacheTtlMs) return current;
      loading ??= load().finally(() => {
        loading = undefined;
      });
      return loading;
    },

    /**
     * Writes a new version: the current rules with `patch` applied. A patch that changes nothing writes
     * nothing and returns the current version.
     * @param changedBy who, e.g. "admin:<user id>".
     * @param expectedVersion when given, refuses (CONFLICT) unless it is the current version.
     * @param origin the admin's request: a new version is audited (the fields it changed, before and after).
     * @throws FraudError VALIDATION_ERROR when the result is not a valid rule set; CONFLICT as above.
     */
    async update(
      patch: RulePatch,
      changedBy: string,
      note: string,
      expectedVersion: number | undefined,
      origin: AuditOrigin,
    ): Promise<StoredRuleVersion> {
      await this.current(); // writes version 1 when there is none yet
      const written = await withTransaction(pool, async (tx) => {
        await store.lockRules(tx);
        const latest = await store.latestRules(tx);
        if (!latest) throw new Error("rule_versions is empty");
        if (expectedVersion !== undefined && expectedVersion !== latest.version) {
          throw new FraudError(
            "CONFLICT",
            `the rules are at version ${latest.version}, not ${expectedVersion}`,
            { current_version: String(latest.version), expected_version: String(expectedVersion) },
          );
        }
        const before = applyPatch(DEFAULT_RULES, latest.rules);
        const rules = applyPatch(before, patch);
        const issues = checkRules(rules, baseCurrency);
        const [first] = issues;
        if (first) {
          throw new FraudError(
            "VALIDATION_ERROR",
            `invalid rules: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`,
            { field: first.field },
          );
        }
        // One spelling per amount ("10000" and "10000.00" are the same threshold).
        rules.highValue.threshold = formatAmount(
          parseAmount(rules.highValue.threshold, baseCurrency),
          baseCurrency,
        );
        const changes = diffRules(before, rules);
        // PUT is idempotent: the same rules again make no new version.
        if (changes.length === 0) return { ...latest, rules: before };
        const version: StoredRuleVersion = {
          version: latest.version + 1,
          rules,
          changedBy,
          note,
          changes,
          createdAt: clock.now(),
        };
        await store.insertRuleVersion(tx, version);
        await enqueue(
          tx,
          auditEvent(origin, {
            subjectType: "fraud_rules",
            subjectId: String(version.version),
            before: {
              version: latest.version,
              ...Object.fromEntries(changes.map((c) => [c.field, c.oldValue])),
            },
            after: {
              version: version.version,
              note,
              ...Object.fromEntries(changes.map((c) => [c.field, c.newValue])),
            },
            occurredAt: version.createdAt,
          }),
        );
        return version;
      });
      use(written);
      return written;
    },
  };
}

export type RuleBook = ReturnType<typeof createRuleBook>;
