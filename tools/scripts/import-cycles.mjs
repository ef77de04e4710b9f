#!/usr/bin/env node
// Fails when a package's modules import each other in a cycle. In a cycle, which module is initialised first
// depends on which one something else happened to import first, and a value read at import time can be
// undefined. Only relative imports count (packages cannot import each other in a cycle: npm workspaces would
// not resolve it). Without `--types`, only value imports: `import type` and `export type` leave no trace at run
// time. With it (as `./dev test` runs it), those too: two modules whose types need each other are one design
// split in two, and the next value import between them is a cycle at run time.
//
//   node tools/scripts/import-cycles.mjs [--types] [dir ...]   (default: every workspace's src/)

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function workspaceSources() {
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const dirs = [];
  for (const pattern of workspaces) {
    const base = pattern.endsWith("/*") ? pattern.slice(0, -2) : undefined;
    const packages = base === undefined ? [pattern] : readdirSync(join(root, base)).map((d) => join(base, d));
    for (const pkg of packages) if (existsSync(join(root, pkg, "src"))) dirs.push(join(root, pkg, "src"));
  }
  return dirs;
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === "dist") continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(entry) && !entry.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

// `import ... from "./x.js"`, `export ... from "./x.js"` and `import "./x.js"`, statement by statement.
const STATEMENT = /^\s*(import|export)\s+(type\s+)?([^;]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

/** The files a file imports for their values (relative imports resolved to files that exist). */
function valueImports(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  for (const [, , typeOnly, , spec] of text.matchAll(STATEMENT)) {
    // `import { type A } from` stays an import at run time under verbatimModuleSyntax; `import type` does not.
    if (typeOnly !== undefined && !withTypes) continue;
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    const candidates = [target, resolve(dirname(file), spec)];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (found !== undefined) out.push(found);
  }
  return out;
}

/** Strongly connected components with more than one module, or a module importing itself (Tarjan). */
function cycles(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), indices.get(w)));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

const args = process.argv.slice(2);
const withTypes = args.includes("--types");
const given = args.filter((a) => a !== "--types");
const dirs = given.length > 0 ? given.map((d) => resolve(d)) : workspaceSources();
const graph = new Map();
for (const dir of dirs) for (const file of sourceFiles(dir)) graph.set(file, valueImports(file));
const found = cycles(graph);
if (found.length === 0) {
  console.log(`import cycles: none among ${graph.size} modules`);
} else {
  for (const component of found) {
    console.error(`import cycle among: ${component.map((f) => relative(root, f)).join(", ")}`);
  }
  console.error("Move what the modules share into the module that owns it (a model or types file).");
  process.exit(1);
}
