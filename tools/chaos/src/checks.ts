// What must hold after every fault: no acknowledged movement lost, no key executed twice, no answer that
// contradicts what happened, every balance what the answers imply, the ledger balanced, analytics equal to
// the transactions, every outbox sent and every consumer caught up.
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { platformServices } from "@fintech/platform";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type pg from "pg";
import type { Answer, Json, RestClient } from "./client.js";
import { decimalOf, minorOf } from "./client.js";
import type { Op, User } from "./workload.js";
import { answeredId, REFUSALS_EXPECTED } from "./workload.js";

// Every backend owns a schema named after it, with an outbox.
const SCHEMAS = platformServices.filter((s) => s.kind === "grpc").map((s) => s.name);

interface Row {
  id: string;
  status: string;
  amount: bigint;
  to_amount: bigint | null;
}

export interface Verdict {
  acknowledged: number;
  refused: number;
  unknown: number;
  lost: string[];
  duplicated: string[];
  wrong: string[];
  unbalanced: string[];
  ledgerOk: boolean;
}

/** Where the platform is still catching up (empty when it has settled). */
export interface Backlog {
  outbox: number;
  consumers: number;
  pendingTransactions: number;
  analytics: string[];
  /** transaction.completed webhook events the suite's receiver has not had a signed delivery of. */
  webhooks: number;
}

export class Checker {
  constructor(
    private readonly db: pg.Pool,
    private readonly rest: RestClient,
    private readonly urls: { nats: string; identity: () => string; ledger: () => string },
    private readonly chaos: { clientId: string; clientSecret: string },
    /** The webhook-id of every signed delivery the suite's receiver got. */
    private readonly webhooksReceived: ReadonlySet<string>,
  ) {}

  private async rowsOf(op: Op): Promise<Row[]> {
    const where = (() => {
      switch (op.kind) {
        case "refund":
          return { sql: "transaction_type = 'refund' AND original_transaction_id = $2", arg: op.purchaseId };
        case "transfer":
          return {
            sql: "transaction_type = 'transfer' AND direction = 'outgoing' AND amount = $2",
            arg: op.amount,
          };
        default:
          return { sql: "transaction_type = $3 AND amount = $2", arg: op.amount };
      }
    })();
    const params: unknown[] = [op.user.id, where.arg];
    if (where.sql.includes("$3")) params.push(op.kind);
    const { rows } = await this.db.query<Row>(
      `SELECT id, status, amount, to_amount FROM wallet.transactions WHERE user_id = $1 AND ${where.sql}
       ORDER BY created_at`,
      params,
    );
    return rows.filter((r) => op.kind !== "refund" || r.amount === op.amount);
  }

  /**
   * Judges the ops of `scenario` (answers, duplicates) and every user's balance after every op so far (a
   * balance is the sum of all of them).
   */
  async verdict(ops: Op[], users: User[], scenario: string): Promise<Verdict> {
    const v: Verdict = {
      acknowledged: 0,
      refused: 0,
      unknown: 0,
      lost: [],
      duplicated: [],
      wrong: [],
      unbalanced: [],
      ledgerOk: false,
    };
    // Expected available balance per wallet id, in minor units.
    const expected = new Map<string, bigint>();
    const add = (wallet: string, delta: bigint) => expected.set(wallet, (expected.get(wallet) ?? 0n) + delta);
    for (const u of users) {
      add(u.myr, 0n);
      add(u.sgd, 0n);
    }
    for (const op of ops) {
      const answer = op.answer;
      if (answer === undefined) continue;
      const rows = await this.rowsOf(op);
      const row = rows[0];
      if (op.scenario === scenario) this.judge(op, answer, rows, v);
      if (row === undefined) continue;
      const moved = row.status === "completed" || row.status === "pending";
      const settled = row.status === "completed";
      switch (op.kind) {
        case "top_up":
          if (settled) add(op.user.myr, op.amount);
          break;
        case "refund":
          if (settled) add(op.user.myr, op.amount);
          break;
        case "purchase":
        case "withdrawal":
          if (moved) add(op.user.myr, -op.amount);
          break;
        case "transfer":
          if (moved) add(op.user.myr, -op.amount);
          if (settled && op.to !== undefined) add(op.to.myr, op.amount);
          break;
        case "conversion":
          if (moved) add(op.user.myr, -op.amount);
          if (settled) add(op.user.sgd, row.to_amount ?? 0n);
          break;
      }
    }
    for (const u of users) {
      const { data } = (await this.rest.must("GET", "/api/v1/wallets", { token: u.token })) as {
        data: Json[];
      };
      for (const w of data) {
        const want = expected.get(String(w.id));
        if (want === undefined) continue;
        const got = minorOf((w.balance as Json).available);
        if (got !== want) {
          v.unbalanced.push(
            `${u.email} ${String(w.currency)}: available ${decimalOf(got)}, answers imply ${decimalOf(want)}`,
          );
        }
      }
    }
    v.ledgerOk = await this.ledgerIntegrity();
    return v;
  }

  /** What one op's answer and rows say: acknowledged and there, executed once, answered truly. */
  private judge(op: Op, answer: Answer, rows: Row[], v: Verdict): void {
    const row = rows[0];
    if (rows.length > 1)
      v.duplicated.push(`${op.key}: ${rows.length} transactions ${rows.map((r) => r.id).join(", ")}`);
    const id = answeredId(answer);
    if (answer.kind === "acknowledged") {
      v.acknowledged++;
      const mine = rows.find((r) => r.id === id);
      if (mine === undefined) v.lost.push(`${op.key}: acknowledged ${id} not found`);
      else if (mine.amount !== op.amount)
        v.lost.push(`${op.key}: ${id} has ${mine.amount}, asked ${op.amount}`);
    } else if (answer.kind === "refused") {
      v.refused++;
      // A refusal must be one the workload can get, and true: nothing moved for it.
      const said = `${op.key}: answered ${answer.status} ${String(answer.body.error)}`;
      if (row !== undefined && row.status !== "failed")
        v.wrong.push(`${said} but ${row.id} is ${row.status}`);
      else if (!REFUSALS_EXPECTED.has(String(answer.body.error))) v.wrong.push(said);
    } else {
      v.unknown++;
    }
  }

  /** The ledger's own integrity check, called as a service. */
  async ledgerIntegrity(): Promise<boolean> {
    const identity = createClient(
      IdentityService,
      createConnectTransport({ baseUrl: this.urls.identity(), httpVersion: "2" }),
    );
    const { accessToken } = await identity.issueServiceToken(this.chaos);
    const ledger = createClient(
      LedgerService,
      createConnectTransport({ baseUrl: this.urls.ledger(), httpVersion: "2" }),
    );
    const res = await ledger.checkIntegrity({}, { headers: { authorization: `Bearer ${accessToken}` } });
    return res.ok;
  }

  /**
   * What is still in flight: unsent outbox rows, unconsumed events, unfinished transactions, analytics behind,
   * webhooks not delivered.
   */
  async backlog(ops: Op[], users: User[]): Promise<Backlog> {
    let outbox = 0;
    for (const schema of SCHEMAS) {
      const { rows } = await this.db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${schema}.outbox WHERE published_at IS NULL`,
      );
      outbox += Number(rows[0]?.n ?? 0);
    }
    const { rows: pending } = await this.db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM wallet.transactions WHERE status = 'pending'",
    );
    return {
      outbox,
      consumers: await this.consumerLag(),
      pendingTransactions: Number(pending[0]?.n ?? 0),
      analytics: await this.analyticsBehind(ops, users),
      webhooks: await this.webhooksUndelivered(),
    };
  }

  /** Events the platform-wide endpoint takes that its receiver has not been sent (signed) yet. */
  private async webhooksUndelivered(): Promise<number> {
    const { rows } = await this.db.query<{ id: string }>(
      "SELECT id FROM notifications.webhook_events WHERE type = 'transaction.completed'",
    );
    return rows.filter((r) => !this.webhooksReceived.has(r.id)).length;
  }

  private async consumerLag(): Promise<number> {
    const nc = await connect({ servers: this.urls.nats, timeout: 2_000 });
    try {
      const jsm = await jetstreamManager(nc);
      let lag = 0;
      for await (const stream of jsm.streams.list()) {
        for await (const c of jsm.consumers.list(stream.config.name))
          lag += c.num_pending + c.num_ack_pending;
      }
      return lag;
    } finally {
      await nc.close();
    }
  }

  /** Users whose analytics summary differs from their completed purchases and refunds. */
  private async analyticsBehind(ops: Op[], users: User[]): Promise<string[]> {
    const behind: string[] = [];
    const touched = new Set(ops.map((o) => o.user.index));
    for (const u of users) {
      if (!touched.has(u.index)) continue;
      const { rows } = await this.db.query<{
        purchases: string;
        spent: string;
        refunds: string;
        refunded: string;
      }>(
        `SELECT count(*) FILTER (WHERE transaction_type = 'purchase')::text AS purchases,
                coalesce(sum(amount) FILTER (WHERE transaction_type = 'purchase'), 0)::text AS spent,
                count(*) FILTER (WHERE transaction_type = 'refund')::text AS refunds,
                coalesce(sum(amount) FILTER (WHERE transaction_type = 'refund'), 0)::text AS refunded
         FROM wallet.transactions WHERE user_id = $1 AND status = 'completed'`,
        [u.id],
      );
      const want = rows[0];
      if (want === undefined) continue;
      const s = await this.rest.must("GET", "/api/v1/analytics/summary", { token: u.token });
      const got = {
        purchases: String(s.transaction_count ?? 0),
        spent: String(minorOf(s.total_spent ?? "0") + minorOf(s.total_refunded ?? "0")),
        refunds: String(s.refund_count ?? 0),
        refunded: String(minorOf(s.total_refunded ?? "0")),
      };
      if (
        got.purchases !== want.purchases ||
        got.spent !== want.spent ||
        got.refunds !== want.refunds ||
        got.refunded !== want.refunded
      ) {
        behind.push(`${u.email}: analytics ${JSON.stringify(got)}, transactions ${JSON.stringify(want)}`);
      }
    }
    return behind;
  }
}

export function settled(b: Backlog): boolean {
  return (
    b.outbox === 0 &&
    b.consumers === 0 &&
    b.pendingTransactions === 0 &&
    b.analytics.length === 0 &&
    b.webhooks === 0
  );
}
