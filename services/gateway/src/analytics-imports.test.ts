import { formatAmount } from "@fintech/money";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { analyticsGatewayTest } from "./test/analytics-harness.js";
import type { ErrorBody } from "./test/harness.js";
import { checkAgainstSpec } from "./test/spec-check.js";

const test = analyticsGatewayTest();

const PROVIDERS = ["apple_pay", "crypto", "paypal", "visa", "wire"] as const;
const TYPES = [
  ["deposit", "top_up"],
  ["withdrawal", "withdrawal"],
] as const;
const DAYS = 30;
const ROWS = 5000;

interface Cell {
  count: number;
  minor: bigint;
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A file in the aggregation service's format: header `timestamp,type,payment_method,amount,sleep_ms`, CRLF,
 * deposits and withdrawals over April 2026 (30 days) with five providers, every day x type x provider cell at
 * least once; and the reference sums of each cell in bigint minor units.
 */
function monthFile(seed: number) {
  const next = random(seed);
  const reference = new Map<string, Cell>();
  const rows: Array<{ at: number; line: string }> = [];
  const add = (day: number, type: number, provider: number) => {
    const at = Date.UTC(2026, 3, day + 1) + Math.floor(next() * 86_400_000);
    const minor = 1n + BigInt(Math.floor(next() * 999_999));
    const [word, name] = TYPES[type] ?? TYPES[0];
    const p = PROVIDERS[provider] ?? "visa";
    const key = `2026-04-${String(day + 1).padStart(2, "0")}|${name}|${p}`;
    const cell = reference.get(key) ?? { count: 0, minor: 0n };
    cell.count++;
    cell.minor += minor;
    reference.set(key, cell);
    const stamp = new Date(at).toISOString().replace("T", " ").replace("Z", "");
    rows.push({ at, line: `${stamp},${word},${p},${formatAmount(minor, "MYR")},${Math.floor(next() * 50)}` });
  };
  for (let d = 0; d < DAYS; d++)
    for (let t = 0; t < TYPES.length; t++) for (let p = 0; p < PROVIDERS.length; p++) add(d, t, p);
  while (rows.length < ROWS) {
    add(Math.floor(next() * DAYS), Math.floor(next() * TYPES.length), Math.floor(next() * PROVIDERS.length));
  }
  rows.sort((a, b) => a.at - b.at);
  const csv = `timestamp,type,payment_method,amount,sleep_ms\r\n${rows.map((r) => r.line).join("\r\n")}\r\n`;
  return { csv, reference };
}

interface ProviderCell {
  provider: string;
  count: number;
  amount: string;
}
interface Stats {
  count: number;
  days: Array<{
    date: string;
    by_type: Array<{ type: string; count: number; amount: string; by_provider: ProviderCell[] }>;
  }>;
}
interface Job {
  import_id: string;
  status: string;
  file_name: string;
  rows_imported: number;
  rows_failed: number;
  duplicate_of: string;
}

describe("the aggregation service's files and /stats through the gateway", () => {
  test("a month in the real format is accepted as-is and every day x type x provider cell equals the file's sums", async ({
    gw,
  }) => {
    const admin = await gw.token("admin-1", ["user", "admin"]);
    const { csv, reference } = monthFile(13);
    expect(reference.size).toBe(300);

    const created = await gw.call("/api/v1/imports", {
      token: admin,
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: csv,
    });
    expect(created.status).toBe(202);
    const { import_id: id } = (await created.json()) as { import_id: string };
    const job = await waitFor(
      async () => {
        const j = (await (await gw.call(`/api/v1/imports/${id}`, { token: admin })).json()) as Job;
        return j.status !== "running" && j;
      },
      { timeoutMs: 60_000 },
    );
    expect(job).toMatchObject({ status: "completed", rows_imported: ROWS, rows_failed: 0 });

    const range = "from_date=2026-04-01&to_date=2026-04-30";
    const stats = await waitFor(
      async () => {
        const s = (await (await gw.call(`/api/v1/stats?${range}`, { token: admin })).json()) as Stats;
        return s.count === ROWS && s;
      },
      { timeoutMs: 60_000 },
    );
    const cells = new Map<string, { count: number; amount: string }>();
    for (const day of stats.days) {
      for (const type of day.by_type) {
        let sum = 0n;
        for (const cell of type.by_provider) {
          cells.set(`${day.date}|${type.type}|${cell.provider}`, { count: cell.count, amount: cell.amount });
          sum += BigInt(cell.amount.replace(".", ""));
        }
        // A type's cells add up to its total, to the cent.
        expect(formatAmount(sum, "MYR")).toBe(type.amount);
      }
    }
    expect(cells.size).toBe(300);
    for (const [key, cell] of reference) {
      expect({ key, ...cells.get(key) }).toEqual({
        key,
        count: cell.count,
        amount: formatAmount(cell.minor, "MYR"),
      });
    }

    // Filters: one type (in the file's own word) and one provider (any case).
    const visa = (await (
      await gw.call(`/api/v1/stats?${range}&type=deposits&provider=VISA`, { token: admin })
    ).json()) as Stats;
    const visaCells = visa.days.flatMap((d) =>
      d.by_type.flatMap((t) => t.by_provider.map((c) => [d.date, t.type, c.provider, c.amount])),
    );
    expect(visaCells).toHaveLength(30);
    for (const [date, type, provider, amount] of visaCells) {
      expect([type, provider]).toEqual(["top_up", "visa"]);
      expect(amount).toBe(formatAmount(reference.get(`${date}|top_up|visa`)?.minor ?? -1n, "MYR"));
    }

    // The same file again: a duplicate of the first import, nothing imported, nothing counted twice.
    const again = await gw.call("/api/v1/imports", {
      token: admin,
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: csv,
    });
    expect(again.status).toBe(202);
    const { import_id: againId } = (await again.json()) as { import_id: string };
    const duplicate = (await (await gw.call(`/api/v1/imports/${againId}`, { token: admin })).json()) as Job;
    expect(duplicate).toMatchObject({ status: "completed", rows_imported: 0, duplicate_of: id });
    const after = (await (await gw.call(`/api/v1/stats?${range}`, { token: admin })).json()) as Stats;
    expect(after.count).toBe(ROWS);

    // Listed newest first, one page at a time.
    const first = (await (await gw.call("/api/v1/imports?limit=1", { token: admin })).json()) as {
      data: Job[];
      has_more: boolean;
      next_cursor: string;
    };
    expect(first.data.map((j) => j.import_id)).toEqual([againId]);
    expect(first.has_more).toBe(true);
    const second = (await (
      await gw.call(`/api/v1/imports?limit=1&cursor=${first.next_cursor}`, { token: admin })
    ).json()) as { data: Job[] };
    expect(second.data.map((j) => j.import_id)).toEqual([id]);
  });

  test("a header that cannot work is refused with 400 naming the columns found and expected", async ({
    gw,
  }) => {
    const admin = await gw.token("admin-1", ["user", "admin"]);
    const res = await gw.call("/api/v1/imports", {
      token: admin,
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "When , Kind,Value\r\n2026-04-01 08:00:00,deposit,1.00\r\n",
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toBe("VALIDATION_ERROR");
    expect(body.details.field).toBe("csv");
    expect(body.message).toContain("found When, Kind, Value");
    expect(body.message).toContain("expected timestamp");
    expect(body.message).toContain("provider (or payment_method");
  });

  test("a multipart upload keeps the file's name; header names any case with spaces, type words plural", async ({
    gw,
  }) => {
    const admin = await gw.token("admin-1", ["user", "admin"]);
    const form = new FormData();
    form.append(
      "file",
      new Blob([
        " Timestamp ,TYPE, Payment_Method ,Amount\r\n2026-05-01T08:00:00Z,Deposits,Visa,10.50\r\n" +
          "2026-05-01T09:00:00Z,WITHDRAWALS,wire,0.25\r\n",
      ]),
      "april-stats.csv",
    );
    const res = await fetch(`${gw.url}/api/v1/imports`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}` },
      body: form,
    });
    await checkAgainstSpec("POST", "/api/v1/imports", res);
    expect(res.status).toBe(202);
    const { import_id: id } = (await res.json()) as { import_id: string };
    const job = await waitFor(
      async () => {
        const j = (await (await gw.call(`/api/v1/imports/${id}`, { token: admin })).json()) as Job;
        return j.status !== "running" && j;
      },
      { timeoutMs: 20_000 },
    );
    expect(job).toMatchObject({ status: "completed", file_name: "april-stats.csv", rows_imported: 2 });
    const stats = await waitFor(
      async () => {
        const s = (await (
          await gw.call("/api/v1/stats?from_date=2026-05-01&to_date=2026-05-01", { token: admin })
        ).json()) as Stats;
        return s.count === 2 && s;
      },
      { timeoutMs: 20_000 },
    );
    expect(
      stats.days[0]?.by_type.map((t) => [t.type, t.by_provider.map((c) => [c.provider, c.amount])]),
    ).toEqual([
      ["top_up", [["visa", "10.50"]]],
      ["withdrawal", [["wire", "0.25"]]],
    ]);
  });
});
