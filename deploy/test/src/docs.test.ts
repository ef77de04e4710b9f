// The ports the documentation names against libs/platform's service registry: the prose keeps its tables and
// examples, and a port that moves in the registry fails here until every page says the new one.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { platformServices as registry } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import { calleeOf, readText, registryEntry, root, serviceDirs } from "./repo.js";

/** Every Markdown page of the repository outside node_modules, as a path from the root. */
function markdownPages(dir = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules" && !entry.name.startsWith(".")) out.push(...markdownPages(path));
    } else if (entry.name.endsWith(".md")) {
      out.push(path);
    }
  }
  return out;
}

const pages = markdownPages();
// The shapes the registry's ports have (5005x for a backend, 915x for its metrics, the edge's 8080 and 9180).
const PORT_LIKE = /\b(5005\d|915\d|9180|8080)\b/g;
const registryPorts = new Set(registry.flatMap((s) => [s.port, s.metricsPort]));

/**
 * The rows of a page's Markdown tables with a port column whose first cell names a service, with the numbers of
 * 4-5 digits in them.
 */
function serviceRows(text: string): Map<string, number[]> {
  const rows = new Map<string, number[]>();
  let header: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith("|")) {
      header = undefined;
      continue;
    }
    header ??= line;
    const name = /^\|\s*([a-z]+)\s*\|/.exec(line)?.[1];
    if (!/\bport\b/.test(header) || name === undefined || !registry.some((s) => s.name === name)) continue;
    expect(rows.has(name), `two rows for ${name}`).toBe(false);
    rows.set(
      name,
      [...line.matchAll(/\b(\d{4,5})\b/g)].map((m) => Number(m[1])),
    );
  }
  return rows;
}

describe("the documentation's ports", () => {
  it("reads Markdown pages, the READMEs and docs/ among them", () => {
    expect(pages).toEqual(
      expect.arrayContaining(["README.md", "docs/architecture.md", "services/fx/README.md"]),
    );
  });

  for (const page of ["README.md", "docs/architecture.md"]) {
    it(`${page}: the service table has a row per service of the registry, with its port and metrics port`, () => {
      const rows = serviceRows(readText(page));
      expect([...rows.keys()].sort()).toEqual(registry.map((s) => s.name).sort());
      for (const s of registry) expect(rows.get(s.name)?.slice(-2), s.name).toEqual([s.port, s.metricsPort]);
    });
  }

  for (const service of serviceDirs()) {
    it(`services/${service}/README.md gives the registry's port and metrics port`, () => {
      const text = readText(`services/${service}/README.md`);
      const entry = registryEntry(service);
      const stated =
        /Port (\d+)[^,]*, metrics (\d+)/.exec(text) ??
        /`PORT` \((\d+)\), `METRICS_PORT` \((\d+)\)/.exec(text);
      expect(stated, "a 'Port N, metrics M' sentence").not.toBeNull();
      expect([Number(stated?.[1]), Number(stated?.[2])]).toEqual([entry.port, entry.metricsPort]);
    });
  }

  it("names a callee's URL variable with that service's port", () => {
    for (const page of pages) {
      for (const [, variable = "", port] of readText(page).matchAll(/`([A-Z]+_URL)` \(?:(\d+)\)?/g)) {
        const callee = calleeOf(variable);
        expect(callee, `${page}: ${variable}`).toBeDefined();
        expect(Number(port), `${page}: ${variable}`).toBe(registryEntry(callee ?? "").port);
      }
    }
  });

  it("calls a service's RPCs on that service's port", () => {
    for (const page of pages) {
      for (const [, port, context = ""] of readText(page).matchAll(
        /127\.0\.0\.1:(\d+)\/fintech\.([a-z]+)\.v1\./g,
      )) {
        expect(Number(port), `${page}: fintech.${context}.v1`).toBe(registryEntry(context).port);
      }
    }
  });

  it("names no port of the registry's shape that the registry does not have", () => {
    const stale: string[] = [];
    for (const page of pages) {
      for (const [, port] of readText(page).matchAll(PORT_LIKE)) {
        if (!registryPorts.has(Number(port))) stale.push(`${page}: ${port}`);
      }
    }
    expect(stale).toEqual([]);
  });
});
