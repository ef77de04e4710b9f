// The workload: users who top up, pay merchants, withdraw, send each other money, convert to SGD and refund
// purchases, with a fixed number of requests in flight. Every request's amount is unique for its user and
// kind, so the suite can find in the wallet's table what a request created however its answer was lost.
import { randomBytes } from "node:crypto";
import type { Answer, Json, RestClient } from "./client.js";
import { decimalOf, minorOf } from "./client.js";

export interface User {
  index: number;
  email: string;
  token: string;
  id: string;
  myr: string;
  sgd: string;
}

export type OpKind = "purchase" | "top_up" | "withdrawal" | "transfer" | "conversion" | "refund";

export interface Op {
  kind: OpKind;
  key: string;
  user: User;
  /** Minor units of MYR, unique per (user, kind). */
  amount: bigint;
  /** Transfers: who receives. */
  to?: User;
  /** Refunds: the purchase refunded. */
  purchaseId?: string;
  method: string;
  path: string;
  body: Json;
  scenario: string;
  answer?: Answer;
}

const PASSWORD = "Chaos pass 2026 ok!";

export class Workload {
  readonly users: User[] = [];
  readonly ops: Op[] = [];
  private seq = 0;
  private readonly run = randomBytes(3).toString("hex");
  /** Purchases acknowledged as completed and not refunded yet, per user index. */
  private readonly refundable = new Map<number, string[]>();
  private stopping = false;
  scenario = "setup";

  constructor(
    private readonly rest: RestClient,
    private readonly log: (line: string) => void,
  ) {}

  async addUsers(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const email = `chaos-${this.run}-${i}@example.com`;
      await this.rest.must("POST", "/api/v1/auth/register", {
        body: { email, password: PASSWORD, full_name: `Chaos User ${i}`, timezone: "Asia/Kuala_Lumpur" },
      });
      const login = await this.rest.must("POST", "/api/v1/auth/login", {
        body: { email, password: PASSWORD },
      });
      const token = String(login.access_token);
      const me = await this.rest.must("GET", "/api/v1/users/me", { token });
      let myr = "";
      for (let attempt = 0; attempt < 100 && myr === ""; attempt++) {
        const { data } = (await this.rest.must("GET", "/api/v1/wallets", { token })) as { data: Json[] };
        myr = String(data.find((w) => w.currency === "MYR")?.id ?? "");
        if (myr === "") await new Promise((r) => setTimeout(r, 100));
      }
      if (myr === "") throw new Error(`no MYR wallet for ${email}`);
      const sgd = await this.rest.must("POST", "/api/v1/wallets", { token, body: { currency: "SGD" } });
      this.users.push({ index: i, email, token, id: String(me.id), myr, sgd: String(sgd.id) });
    }
    // Everyone starts with money, through the same idempotent path as the rest of the workload.
    await Promise.all(this.users.map((u) => this.execute(this.op("top_up", u, 5_000_00n))));
  }

  /** The next op of a random kind for a random user. */
  private next(): Op {
    const user = this.users[Math.floor(Math.random() * this.users.length)] as User;
    const roll = Math.random();
    const purchases = this.refundable.get(user.index) ?? [];
    if (roll < 0.12 && purchases.length > 0) {
      const purchaseId = purchases.shift() as string;
      return this.op("refund", user, 1_00n, { purchaseId });
    }
    if (roll < 0.45) return this.op("purchase", user, 5_00n);
    if (roll < 0.6) return this.op("top_up", user, 20_00n);
    if (roll < 0.7) return this.op("withdrawal", user, 3_00n);
    if (roll < 0.87) {
      const others = this.users.filter((u) => u !== user);
      const to = others[Math.floor(Math.random() * others.length)] as User;
      return this.op("transfer", user, 2_00n, { to });
    }
    return this.op("conversion", user, 7_00n);
  }

  /** An op of `kind` for `user`: `base` plus a sequence number in cents keeps its amount unique. */
  private op(kind: OpKind, user: User, base: bigint, extra: { to?: User; purchaseId?: string } = {}): Op {
    const n = ++this.seq;
    const amount = kind === "refund" ? base : base + BigInt(n);
    const key = `chaos-${this.run}-${n}-${kind}`;
    const a = decimalOf(amount);
    const shape = ((): { method: string; path: string; body: Json } => {
      switch (kind) {
        case "purchase":
          return {
            method: "POST",
            path: "/api/v1/transactions",
            body: {
              amount: a,
              currency: "MYR",
              merchant_name: `Shop ${n % 7}`,
              merchant_category: ["food_beverage", "shopping", "transport"][n % 3],
              transaction_type: "purchase",
              wallet_id: user.myr,
            },
          };
        case "top_up":
          return {
            method: "POST",
            path: `/api/v1/wallets/${user.myr}/fund`,
            body: { amount: a, source: "visa" },
          };
        case "withdrawal":
          return { method: "POST", path: `/api/v1/wallets/${user.myr}/withdraw`, body: { amount: a } };
        case "transfer":
          return {
            method: "POST",
            path: "/api/v1/transfers",
            body: { from_wallet_id: user.myr, to_wallet_id: extra.to?.myr, amount: a, currency: "MYR" },
          };
        case "conversion":
          return {
            method: "POST",
            path: `/api/v1/wallets/${user.myr}/convert`,
            body: { to_currency: "SGD", amount: a },
          };
        case "refund":
          return {
            method: "POST",
            path: `/api/v1/transactions/${extra.purchaseId}/refund`,
            body: { amount: a, reason: "chaos" },
          };
      }
    })();
    return { kind, key, user, amount, ...extra, ...shape, scenario: this.scenario };
  }

  private async execute(op: Op): Promise<void> {
    this.ops.push(op);
    op.answer = await this.rest.withRetries(
      op.method,
      op.path,
      { token: op.user.token, body: op.body, key: op.key },
      this.log,
    );
    if (
      op.kind === "purchase" &&
      op.answer.kind === "acknowledged" &&
      op.answer.body.status === "completed"
    ) {
      const list = this.refundable.get(op.user.index) ?? [];
      list.push(String(op.answer.body.transaction_id));
      this.refundable.set(op.user.index, list);
    }
    if (op.answer.kind === "refused" && !REFUSALS_EXPECTED.has(String(op.answer.body.error))) {
      this.log(`${op.kind} ${op.key}: refused ${op.answer.status} ${JSON.stringify(op.answer.body)}`);
    }
  }

  /** Runs `inFlight` workers issuing ops until `stop()`; resolves when every started op has its outcome. */
  async drive(inFlight: number): Promise<void> {
    this.stopping = false;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (!this.stopping) await this.execute(this.next());
      }),
    );
  }

  stop(): void {
    this.stopping = true;
  }
}

/** Final refusals a correct platform may give this workload. */
export const REFUSALS_EXPECTED = new Set(["INSUFFICIENT_BALANCE", "TRANSACTION_DECLINED", "LIMIT_EXCEEDED"]);

/** The transaction id an answer names (a success, or a refusal recorded as a failed transaction). */
export function answeredId(answer: Answer | undefined): string | undefined {
  if (answer === undefined || answer.kind === "unknown") return undefined;
  if (answer.kind === "acknowledged") return String(answer.body.transaction_id ?? "");
  const details = (answer.body.details ?? {}) as Json;
  return details.transaction_id === undefined ? undefined : String(details.transaction_id);
}

export { minorOf };
