// The order migrations are added in against the order they run in. A service applies libs/events' migrations
// and its own as one history sorted by number, and refuses to start when a migration it has not run sorts
// before one it has: a file added with a lower number than one an installation already ran would stop that
// installation at its next start. So, in every service's history, a file added later is numbered higher.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root, serviceDirs } from "./repo.js";

const EVENTS_DIR = "libs/events/migrations";

/** The `.sql` files of a directory, as paths from the root. */
const sqlFiles = (dir: string): string[] =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith(".sql"))
    .map((f) => `${dir}/${f}`);

// The runner's order: the numeric prefix, then the name.
const number = (path: string): bigint => BigInt(/\/(\d+)_[^/]*$/.exec(path)?.[1] ?? "0");
const byRunOrder = (a: string, b: string): number =>
  number(a) === number(b) ? a.localeCompare(b) : number(a) < number(b) ? -1 : 1;

/** When git first saw the file (seconds); a file it has not seen yet is the newest of all. */
function addedAt(path: string): number {
  const out = execFileSync("git", ["log", "--no-renames", "--diff-filter=A", "--format=%ct", "--", path], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const first = out.split("\n").at(-1);
  return first === undefined || first === "" ? Number.POSITIVE_INFINITY : Number(first);
}

const inGit = existsSync(join(root, ".git"));
const histories = serviceDirs()
  .filter((s) => existsSync(join(root, "services", s, "migrations")))
  .map((s) => ({ service: s, files: [...sqlFiles(EVENTS_DIR), ...sqlFiles(`services/${s}/migrations`)] }));

describe("migrations", () => {
  it.skipIf(!inGit).each(histories)("$service: each file added after those it runs after", ({ files }) => {
    const ordered = [...files].sort(byRunOrder);
    const late = ordered.flatMap((file, i) => {
      const next = ordered[i + 1];
      return next !== undefined && addedAt(file) > addedAt(next)
        ? [`${file} was added after ${next} but runs before it`]
        : [];
    });
    expect(late).toEqual([]);
  });
});
