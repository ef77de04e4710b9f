// Imports (or replays) a CSV of transaction history into analytics:
//
//   fintech-import history.csv --user-id <id> [--replay --speed 60]
//   npm run import -w @fintech/import-cli -- history.csv ...
//
// The command line is checked before the import machinery (analytics, database, NATS clients) is loaded, so
// --help and a mistyped option answer at once.
import { parseArgs, USAGE, UsageError } from "./args.js";
import { CliError } from "./cli-error.js";

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), process.env, process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`import: ${err.message} (--help lists the options)\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const { importFile } = await import("./import-file.js");
  return importFile(args);
}

try {
  process.exitCode = await main();
} catch (err) {
  // One line the user can act on; a stack trace only for what nobody foresaw.
  if (err instanceof CliError) process.stderr.write(`import: ${err.message}\n`);
  else
    process.stderr.write(
      `import failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  process.exitCode = 1;
}
