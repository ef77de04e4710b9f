#!/usr/bin/env node
// The `fintech-import` command (npx fintech-import history.csv ...): runs this package's src/main.ts as
// `npm run import` does, from its TypeScript sources, wherever it is typed. A relative file is read from the
// directory it is typed in (INIT_CWD, which main.ts reads because npm runs scripts in the package directory).
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
// Resolved here, not by the child: `--import tsx` alone would be looked up from the current directory.
const tsx = import.meta.resolve("tsx");
const child = spawn(
  process.execPath,
  ["--conditions=source", "--import", tsx, main, ...process.argv.slice(2)],
  { stdio: "inherit", env: { ...process.env, INIT_CWD: process.cwd() } },
);
// Ctrl-C reaches both processes; a signal sent to this one alone is passed on, and the exit waits for the import.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => {
  process.exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
});
