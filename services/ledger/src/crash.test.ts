import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { testService, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { NewTransferInit } from "./test/harness.js";
import {
  fund,
  ledgerClient,
  ledgerTest,
  move,
  openAccount,
  publishedCount,
  startReplica,
} from "./test/harness.js";

const test = ledgerTest();

describe("crash", () => {
  test("SIGKILL mid-load: every acknowledged transfer exists, nothing is half-applied", async ({
    ledger,
  }) => {
    const accounts = await Promise.all(Array.from({ length: 6 }, () => openAccount(ledger.client)));
    await Promise.all(accounts.map((a) => fund(ledger.client, a, "100000.00")));

    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./test/crash-child.ts", import.meta.url)),
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: ledger.databaseUrl,
          DB_SCHEMA: ledger.schema,
          NATS_URL: ledger.natsUrl,
          EVENTS_NAMESPACE: ledger.namespace,
          LEDGER_TEST_JWK: JSON.stringify(ledger.tokens.publicJwk),
          LEDGER_INTEGRITY_INTERVAL_SECONDS: "0",
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = once(child, "exit");
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const acknowledged: string[] = [];
    // Linked pairs: both halves exist or neither does, whatever the moment of the kill.
    const pairs: Array<[string, string]> = [];
    let killed = false;
    try {
      const port = Number((await waitFor(() => /port (\d+)/.exec(out)?.[1], { timeoutMs: 15_000 })) ?? 0);
      const client = ledgerClient(`http://127.0.0.1:${port}`, await ledger.token(testService("wallet")));
      const pick = (i: number) => accounts[i % accounts.length] ?? accounts[0];
      let n = 0;
      const worker = async () => {
        while (!killed) {
          const k = n++;
          const from = pick(k);
          const to = pick(k + 1);
          if (!from || !to) return;
          const first = move(from, to, "0.01", { flags: { linked: true } });
          const second = move(to, from, "0.01");
          const single: NewTransferInit = move(from, to, "0.02");
          pairs.push([first.id ?? "", second.id ?? ""]);
          try {
            const [batch, one] = await Promise.all([
              client.createTransfers({ transfers: [first, second] }),
              client.createTransfer({ transfer: single }),
            ]);
            for (const r of batch.results) if (r.outcome.case === "transfer") acknowledged.push(r.id);
            if (one.transfer) acknowledged.push(one.transfer.id);
          } catch {
            return; // the child is gone
          }
        }
      };
      const workers = Array.from({ length: 24 }, worker);
      await waitFor(() => acknowledged.length >= 600, { timeoutMs: 20_000 });
      child.kill("SIGKILL");
      killed = true;
      await Promise.all(workers);
    } finally {
      killed = true;
      child.kill("SIGKILL");
    }
    expect(await exited).toEqual([null, "SIGKILL"]);
    // Calls were in flight when it died (each worker always has two outstanding).
    expect(pairs.length * 3).toBeGreaterThan(acknowledged.length);

    // A fresh replica over the same database: the service after its restart.
    const restarted = await startReplica(ledger);
    try {
      const { rows } = await ledger.pool.query<{ id: string }>(
        "SELECT id FROM transfers WHERE id = ANY($1::uuid[])",
        [acknowledged],
      );
      expect(rows.length).toBe(new Set(acknowledged).size);

      const ids = pairs.flat();
      const stored = new Set(
        (
          await ledger.pool.query<{ id: string }>("SELECT id FROM transfers WHERE id = ANY($1::uuid[])", [
            ids,
          ])
        ).rows.map((r) => r.id),
      );
      const halves = pairs.filter(([x, y]) => stored.has(x) !== stored.has(y));
      expect(halves).toEqual([]);
      // Transfers, balances and outbox events commit together: one event per transfer (each published once, the
      // killed process's included), balances equal to sums.
      const { rows: transfers } = await ledger.pool.query<{ n: number }>(
        "SELECT count(*)::int4 AS n FROM transfers",
      );
      expect(await publishedCount(ledger, "ledger.transfer.")).toBe(transfers[0]?.n);
      const report = await restarted.client.checkIntegrity({});
      expect(report.violations).toEqual([]);
      expect(report.ok).toBe(true);
      // And it takes new transfers at once.
      const a = accounts[0];
      const b = accounts[1];
      if (!a || !b) throw new Error("accounts");
      const after = await restarted.client.createTransfer({ transfer: move(a, b, "1.00") });
      expect(after.transfer?.amount).toBe("1.00");
    } finally {
      await restarted.stop();
    }
  }, 60_000);
});
