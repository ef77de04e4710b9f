import { isAbsolute, resolve } from "node:path";

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

export const USAGE = `usage: npm run import -w @fintech/import-cli -- <file.csv> [options]

Publishes each good row of the CSV (columns timestamp, type, provider, amount, and optionally currency,
sleep_ms, merchant_category) as an event the analytics service counts; bad rows are listed with their line.
The import is recorded beside the analytics service's own (GET /api/v1/imports); importing the same file for the
same user again imports nothing and names the import it duplicates.

  --replay              publish each row when its time comes (its sleep_ms, else its timestamp's gap)
  --speed N             replay N times faster (default 1; 60 plays a minute per second)
  --user-id ID          whose history it is (default: platform statistics only)
  --timezone ZONE       IANA zone of that user's days (default UTC)
  --rates LIST          fixed rates such as SGD/MYR=3.50,USD/MYR=4.70 (default: ask fx at --fx-url)
  --nats URL            default $NATS_URL or nats://127.0.0.1:4222
  --namespace NS        event namespace (default $EVENTS_NAMESPACE or none)
  --fx-url URL          default $FX_URL or http://127.0.0.1:50055
  --base-currency CODE  default $BASE_CURRENCY or MYR
  --database-url URL    analytics' database (default $DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --db-schema NAME      analytics' schema (default $DB_SCHEMA or analytics)
  --quiet               no progress bar
  --help                this text
`;

/** A command line that cannot be run; the message says why. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Parses the arguments after `--`. A relative file is resolved against `cwd` (npm runs scripts in the package
 * directory; pass INIT_CWD, where the user typed the command).
 */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ImportArgs {
  const args: ImportArgs = {
    file: "",
    replay: false,
    speed: 1,
    userId: "",
    timezone: "UTC",
    rates: env.ANALYTICS_IMPORT_RATES || undefined,
    natsUrl: env.NATS_URL || "nats://127.0.0.1:4222",
    namespace: env.EVENTS_NAMESPACE || "",
    fxUrl: env.FX_URL || "http://127.0.0.1:50055",
    baseCurrency: env.BASE_CURRENCY || "MYR",
    databaseUrl: env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres",
    dbSchema: env.DB_SCHEMA || "analytics",
    quiet: false,
    help: false,
  };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--replay":
        args.replay = true;
        break;
      case "--speed": {
        const v = value();
        const speed = Number(v);
        if (!Number.isFinite(speed) || speed <= 0 || speed > 100_000) {
          throw new UsageError(`--speed must be a number above 0, at most 100000, not "${v}"`);
        }
        args.speed = speed;
        break;
      }
      case "--user-id":
        args.userId = value();
        break;
      case "--timezone":
        args.timezone = value();
        break;
      case "--rates":
        args.rates = value();
        break;
      case "--nats":
        args.natsUrl = value();
        break;
      case "--namespace":
        args.namespace = value();
        break;
      case "--fx-url":
        args.fxUrl = value();
        break;
      case "--base-currency":
        args.baseCurrency = value().toUpperCase();
        break;
      case "--database-url":
        args.databaseUrl = value();
        break;
      case "--db-schema":
        args.dbSchema = value();
        break;
      case "--quiet":
        args.quiet = true;
        break;
      case "--help":
      case "-h":
        args.help = true;
        return args;
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${flag}`);
        files.push(arg);
    }
  }
  if (files.length !== 1)
    throw new UsageError(files.length === 0 ? "which CSV file?" : "one CSV file at a time");
  const file = files[0] ?? "";
  args.file = isAbsolute(file) ? file : resolve(cwd, file);
  return args;
}
