// Reads the CPU profiles a benchmark wrote with BENCH_CPU_PROF=<dir> (one `.cpuprofile` per process: per service
// in separate processes, one for the whole platform in one process) and prints, for each: how busy its main
// thread was second by second (the benchmark's levels show as steps: pick the saturated run's seconds), then
// where its busy time went over --from..--to: by the service whose code ran (a query wallet sends through
// libs/db counts as wallet's while wallet's own frame is on the stack), by package, and the functions that took
// the most (--top of each, 15).
//
//   ./dev npm run bench:profile -w @fintech/bench -- <file or dir>... [--from S] [--to S] [--top N]
//
// A profile's samples weigh wall time: a thread that waits for a core after its write woke another process (a
// query to Postgres, a message to NATS) counts that wait in the write. The CPU per process that bench:wallet
// prints, from /proc, is the figure for what a process costs; a profile says where its time went.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { CpuProfile, Share } from "./cpu-profile.js";
import { summarizeProfile } from "./cpu-profile.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { from: { type: "string" }, to: { type: "string" }, top: { type: "string", default: "15" } },
});
const fail = (message: string): never => {
  console.error(`bench:profile: ${message}`);
  process.exit(2);
};
const seconds = (flag: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0
    ? n
    : fail(`--${flag} takes seconds from the profile's start, got "${value}"`);
};
const window = { from: seconds("from", values.from), to: seconds("to", values.to) };
const top = Number(values.top);
if (!Number.isInteger(top) || top < 1) fail(`--top takes a number of rows, got "${values.top}"`);
if (positionals.length === 0) {
  fail("usage: bench:profile -- <file.cpuprofile or directory>... [--from S] [--to S] [--top N]");
}

// npm runs this in tools/bench; a path is the caller's, from where ./dev or npm was started.
const base = process.env.INIT_CWD ?? process.cwd();
const files = positionals.flatMap((arg) => {
  const path = resolve(base, arg);
  if (!existsSync(path)) return fail(`${path}: no such file or directory`);
  if (!statSync(path).isDirectory()) return [path];
  const found = readdirSync(path)
    .filter((f) => f.endsWith(".cpuprofile"))
    .sort()
    .map((f) => join(path, f));
  return found.length > 0 ? found : fail(`${path}: no .cpuprofile in it`);
});

const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
const table = (title: string, rows: Share[]) => {
  console.log(`  ${title}`);
  for (const r of rows.slice(0, top))
    console.log(`    ${pct(r.share)}  ${r.seconds.toFixed(2).padStart(7)} s  ${r.name}`);
};

for (const file of files) {
  const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile, window);
  const span = `${window.from ?? 0} s to ${window.to === undefined ? "the end" : `${window.to} s`}`;
  console.log(`\n== ${basename(file)}`);
  console.log("  busy share of each second from the start:");
  for (let s = 0; s < summary.busyPerSecond.length; s += 10) {
    const row = summary.busyPerSecond.slice(s, s + 10).map((b) => b.toFixed(2));
    console.log(`    ${String(s).padStart(4)} s  ${row.join(" ")}`);
  }
  console.log(`  ${span}: ${summary.busySeconds.toFixed(2)} s busy of ${summary.seconds.toFixed(2)} s`);
  table("by the service (else library) whose code ran", summary.owners);
  table("by package (self time)", summary.packages);
  table("by function (self time)", summary.functions);
}
