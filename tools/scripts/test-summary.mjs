// Adds up the JSON reports the last test run left in every package and prints one closing line:
// "Tests: N passed, N failed, N skipped". Exits non-zero when a test failed or no test ran.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let passed = 0;
let failed = 0;
let skipped = 0;
for (const group of ["libs", "services", "clients", "tools", "deploy"]) {
  for (const name of readdirSync(join(root, group))) {
    const file = join(root, group, name, ".test-report.json");
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
  }
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
