// ./dev chaos: the whole fault suite (about 10 minutes); --short runs the two scenarios `./dev test` runs;
// --only "<name>" (repeatable) runs the named scenarios; --replicas N runs wallet, ledger, fraud and analytics as
// N replicas each, where a "kill" scenario kills one replica while the others serve. Exits non-zero when a
// scenario failed.
import { formatResults, REPLICATED, runSuite, SCENARIOS, SHORT } from "./suite.js";

const args = process.argv.slice(2);
const replicaArg = args.indexOf("--replicas");
const replicas = replicaArg === -1 ? 1 : Number(args[replicaArg + 1]);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 9) {
  console.error("--replicas takes a whole number from 1 to 9");
  process.exit(2);
}
const only = args.flatMap((a, i) => (a === "--only" ? [args[i + 1] ?? ""] : []));
const names = only.length > 0 ? only : args.includes("--short") ? SHORT : SCENARIOS.map((s) => s.name);
const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  console.error(
    `unknown scenario ${unknown.join(", ")}; scenarios: ${SCENARIOS.map((s) => s.name).join(", ")}`,
  );
  process.exit(2);
}
const { results, logDir } = await runSuite({
  scenarios: SCENARIOS.filter((s) => names.includes(s.name)),
  ...(replicas === 1 ? {} : { replicas: Object.fromEntries(REPLICATED.map((name) => [name, replicas])) }),
});
if (replicas > 1) console.log(`\n${REPLICATED.join(", ")}: ${replicas} replicas each; a kill takes one down`);
console.log(`\n${formatResults(results)}`);
console.log(`(service logs: ${logDir})`);
process.exit(results.every((r) => r.passed) && results.length === names.length ? 0 : 1);
