import { isAbsolute, resolve } from "node:path";
import type { ParseArgsOptionsConfig } from "node:util";
import { parseArgs as parseCommandLine } from "node:util";
import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL, serviceRegistry, serviceUrl } from "@fintech/platform";

// Where the services are when nothing says otherwise: as `./dev start` runs them, from libs/platform's registry.
const fx = serviceRegistry.fx;
const analytics = serviceRegistry.analytics;

/** What the command line asks for. */
export interface ImportArgs {
  /** Absolute path of the CSV file. */
  file: string;
  replay: boolean;
  /** Replay speed: 60 plays a minute per second. */
  speed: number;
  /** Whose history it is; "" counts the rows in platform statistics only. */
  userId: string;
  /** IANA zone of the user's days. */
  timezone: string;
  /** Fixed rates "SGD/MYR=3.50,USD/MYR=4.70"; undefined asks the fx service. */
  rates: string | undefined;
  natsUrl: string;
  namespace: string;
  fxUrl: string;
  baseCurrency: string;
  /** The analytics service's database and schema, where the import is recorded (GET /api/v1/imports). */
  databaseUrl: string;
  dbSchema: string;
  quiet: boolean;
  /** --help: print the usage and do nothing else. */
  help: boolean;
}

export const USAGE = `usage: fintech-import <file.csv> [options]
       (in the repository: npm run import -w @fintech/import-cli -- <file.csv> [options])

Publishes each good row of the CSV (columns timestamp, type, provider, amount, and optionally currency,
sleep_ms, merchant_category) as an event the analytics service counts; bad rows are listed with their line.
The import is recorded beside the analytics service's own (GET /api/v1/imports); importing the same file for the
same user again imports nothing and names the import it duplicates.

  --replay              publish each row when its time comes (its sleep_ms, else its timestamp's gap)
  --speed N             replay N times faster (default 1; 60 plays a minute per second)
  --user-id ID          whose history it is (default: platform statistics only)
  --timezone ZONE       IANA zone of that user's days (default UTC)
  --rates LIST          fixed rates such as SGD/MYR=3.50,USD/MYR=4.70 (default: ask fx at --fx-url)
  --nats URL            default $NATS_URL or ${DEFAULT_NATS_URL}
  --namespace NS        event namespace (default $EVENTS_NAMESPACE or none)
  --fx-url URL          default $${fx.urlEnv} or ${serviceUrl(fx)}
  --base-currency CODE  default $BASE_CURRENCY or MYR
  --database-url URL    analytics' database (default $DATABASE_URL or ${DEFAULT_DATABASE_URL})
  --db-schema NAME      analytics' schema (default $DB_SCHEMA or ${analytics.name})
  --quiet               no progress bar
  -h, --help            this text

Exit status: 0 done, 1 the import failed or could not start (one line on stderr says why), 2 a bad command line.
`;

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const OPTIONS = {
  replay: { type: "boolean" },
  speed: { type: "string" },
  "user-id": { type: "string" },
  timezone: { type: "string" },
  rates: { type: "string" },
  nats: { type: "string" },
  namespace: { type: "string" },
  "fx-url": { type: "string" },
  "base-currency": { type: "string" },
  "database-url": { type: "string" },
  "db-schema": { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

type Name = keyof typeof OPTIONS;

const isName = (name: string): name is Name => Object.hasOwn(OPTIONS, name);

/**
 * Parses the arguments after `--` with node:util's parseArgs (`--name value`, `--name=value`, `-h`, `--` before
 * a file name starting with a dash). A relative file is resolved against `cwd` (npm runs scripts in the package
 * directory; pass INIT_CWD, where the user typed the command). `--help` anywhere wins over every other problem.
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ImportArgs {
  const args: ImportArgs = {
    file: "",
    replay: false,
    speed: 1,
    userId: "",
    timezone: "UTC",
    rates: env.ANALYTICS_IMPORT_RATES || undefined,
    natsUrl: env.NATS_URL || DEFAULT_NATS_URL,
    namespace: env.EVENTS_NAMESPACE || "",
    fxUrl: env[fx.urlEnv] || serviceUrl(fx),
    baseCurrency: env.BASE_CURRENCY || "MYR",
    databaseUrl: env.DATABASE_URL || DEFAULT_DATABASE_URL,
    dbSchema: env.DB_SCHEMA || analytics.name,
    quiet: false,
    help: false,
  };
  // Not strict: the tokens are checked below, so each mistake gets this tool's own one-line message.
  const { tokens } = parseCommandLine({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) return { ...args, help: true };
  const files: string[] = [];
  for (const token of tokens) {
    if (token.kind === "positional") {
      files.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue;
    const flag = token.rawName;
    if (!isName(token.name)) throw new UsageError(`unknown option ${flag}`);
    const name = token.name;
    if (OPTIONS[name].type === "boolean") {
      if (token.value !== undefined) throw new UsageError(`${flag} takes no value`);
      if (name === "replay") args.replay = true;
      else if (name === "quiet") args.quiet = true;
      continue;
    }
    const value = token.value;
    if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
    set(args, name, value);
  }
  if (files.length !== 1)
    throw new UsageError(files.length === 0 ? "which CSV file?" : "one CSV file at a time");
  const file = files[0] ?? "";
  args.file = isAbsolute(file) ? file : resolve(cwd, file);
  return args;
}

function set(args: ImportArgs, name: Name, value: string): void {
  switch (name) {
    case "speed": {
      const speed = Number(value);
      if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000) {
        throw new UsageError(`--speed must be a number above 0, at most 100000, not "${value}"`);
      }
      args.speed = speed;
      return;
    }
    case "user-id":
      args.userId = value;
      return;
    case "timezone":
      args.timezone = value;
      return;
    case "rates":
      args.rates = value;
      return;
    case "nats":
      args.natsUrl = value;
      return;
    case "namespace":
      args.namespace = value;
      return;
    case "fx-url":
      args.fxUrl = value;
      return;
    case "base-currency":
      args.baseCurrency = value.toUpperCase();
      return;
    case "database-url":
      args.databaseUrl = value;
      return;
    case "db-schema":
      args.dbSchema = value;
      return;
    case "replay":
    case "quiet":
    case "help":
      return;
  }
}
