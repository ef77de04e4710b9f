// deploy/grafana/platform-dashboard.json: every metric it queries is one the code registers (or a named exporter's),
// and it has the panels the platform's operators need.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRecord, readText, record, root } from "./repo.js";

const dashboard = record(JSON.parse(readText("deploy/grafana/platform-dashboard.json")), "dashboard");
const panels = (Array.isArray(dashboard.panels) ? dashboard.panels : []).filter(isRecord);
const queried = panels.filter((p) => p.type !== "row");

/** Metrics not registered by this repository's code: prom-client's defaults and the NATS exporter's. */
const EXTERNAL = [/^process_/, /^nodejs_/, /^jetstream_consumer_/];
// PromQL words that look like metric names but are functions, keywords or labels.
const NOT_METRICS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
]);

function exprs(panel: Record<string, unknown>): string[] {
  const targets = Array.isArray(panel.targets) ? panel.targets.filter(isRecord) : [];
  return targets.map((t) => String(t.expr ?? ""));
}

/** Metric names in a PromQL expression: identifiers not called as functions, outside {} and by (...). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, "")
    .replace(/\b(by|without)\s*\([^)]*\)/g, "")
    .replace(/"[^"]*"/g, "")
    .replace(/\[[^\]]*\]/g, "");
  return [...bare.matchAll(/\b([a-z_:][a-z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] ?? "")
    .filter((name) => !NOT_METRICS.has(name) && /_/.test(name));
}

/** Every `name: "..."` / getOrCreate("...") metric name in the TypeScript sources of libs/ and services/. */
function registeredMetrics(): Set<string> {
  const names = new Set<string>();
  for (const top of ["libs", "services"]) {
    for (const pkg of readdirSync(join(root, top))) {
      const src = join(root, top, pkg, "src");
      let files: string[];
      try {
        files = readdirSync(src, { recursive: true }).map(String);
      } catch {
        continue;
      }
      for (const file of files) {
        if (!file.endsWith(".ts") || file.endsWith(".test.ts") || file.includes("gen/")) continue;
        const text = readFileSync(join(src, file), "utf8");
        for (const m of text.matchAll(/"([a-z][a-z0-9]*(?:_[a-z0-9]+)+)"/g)) names.add(m[1] ?? "");
      }
    }
  }
  return names;
}

describe("the Grafana dashboard", () => {
  it("queries only metrics the code registers, or prom-client's and the NATS exporter's", () => {
    const known = registeredMetrics();
    const unknown = queried
      .flatMap(exprs)
      .flatMap(metricNames)
      .map((name) => name.replace(/_(bucket|sum|count)$/, ""))
      .filter((name) => !known.has(name) && !EXTERNAL.some((re) => re.test(name)));
    expect([...new Set(unknown)]).toEqual([]);
  });

  it("shows RPC rate, errors and latency, outbox and consumer lag, pools, client calls and ledger batch size", () => {
    const all = queried.flatMap(exprs).join("\n");
    for (const needle of [
      "rate(rpc_server_requests_total",
      'code!="OK"',
      "histogram_quantile(0.5, sum by (service, le) (rate(rpc_server_duration_seconds_bucket",
      "histogram_quantile(0.99, sum by (service, le) (rate(rpc_server_duration_seconds_bucket",
      "events_outbox_backlog",
      "jetstream_consumer_num_pending",
      "events_consumed_total",
      "ledger_batch_transfers_bucket",
      "http_server_duration_seconds_bucket",
      "db_pool_connections",
      "db_pool_waiting_requests",
      "db_pool_acquire_duration_seconds_bucket",
      "events_consumer_pending_messages",
      "events_consumer_oldest_unprocessed_age_seconds",
      "rate(rpc_client_requests_total",
      "rpc_client_duration_seconds_bucket",
    ]) {
      expect(all, needle).toContain(needle);
    }
  });

  it("lists traces from the data source its traces variable names, a Tempo one", () => {
    const variables = record(dashboard.templating, "templating").list;
    const tracesVariable = Array.isArray(variables)
      ? variables.filter(isRecord).find((v) => v.type === "datasource" && v.query === "tempo")
      : undefined;
    expect(tracesVariable?.name).toBe("traces");
    const tracePanels = queried.filter((p) => record(p.datasource ?? {}, "datasource").type === "tempo");
    expect(tracePanels.length).toBeGreaterThan(0);
    for (const panel of tracePanels) {
      const targets = Array.isArray(panel.targets) ? panel.targets.filter(isRecord) : [];
      expect(targets.length, String(panel.title)).toBeGreaterThan(0);
      for (const t of targets) {
        // The uid is a reference to the variable: $ and its name in braces.
        const uid = String(record(t.datasource, "target datasource").uid);
        expect(/^\$\{(\w+)\}$/.exec(uid)?.[1], String(panel.title)).toBe("traces");
        expect(String(t.query), String(panel.title)).toMatch(/^\{.*\}$/);
      }
    }
  });

  it("is well formed: unique panel ids, a data source variable, every panel on the grid", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const variables = record(dashboard.templating, "templating").list;
    expect(Array.isArray(variables) && variables.some((v) => isRecord(v) && v.type === "datasource")).toBe(
      true,
    );
    for (const p of panels) {
      const pos = record(p.gridPos, `gridPos of ${String(p.title)}`);
      expect(Number(pos.x) + Number(pos.w), String(p.title)).toBeLessThanOrEqual(24);
    }
  });
});
