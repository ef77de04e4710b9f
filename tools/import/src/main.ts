// Imports (or replays) a CSV of transaction history: every good row is published on the analytics import
// subject, where the analytics service counts it exactly like a live wallet event.
//
//   npm run import -w @fintech/import-cli -- history.csv --user-id <id> [--replay --speed 60]
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ImportProgress, RateSource } from "@fintech/analytics";
import {
  createImportPublisher,
  fxRates,
  parseRateList,
  realTimer,
  runImport,
  staticRates,
} from "@fintech/analytics";
import { streamName } from "@fintech/events";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { parseArgs, USAGE, UsageError } from "./args.js";
import { formatDuration, progressLine } from "./progress.js";

const SHOWN_ERRORS = 20;

/** The file's SHA-256 (which names its rows' events) and its data rows (lines after the header), in one pass. */
async function scan(file: string): Promise<{ sha256: string; rows: number }> {
  const hash = createHash("sha256");
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1] ?? last;
  }
  if (last !== 0x0a) lines++;
  return { sha256: hash.digest("hex"), rows: Math.max(0, lines - 1) };
}

async function main(): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), process.env, process.env.INIT_CWD ?? process.cwd());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  const { size } = await stat(args.file);
  const { sha256: fileSha256, rows: rowsTotal } = await scan(args.file);
  const nc = await connect({ servers: args.natsUrl, name: "import-cli" });
  try {
    const stream = streamName("analytics", args.namespace);
    try {
      await (await jetstreamManager(nc)).streams.info(stream);
    } catch {
      process.stderr.write(`stream ${stream} does not exist: start the analytics service first\n`);
      return 1;
    }
    const rates: RateSource =
      args.rates === undefined
        ? fxRates(createClient(FxService, createGrpcTransport({ baseUrl: args.fxUrl })), args.baseCurrency)
        : staticRates(parseRateList(args.rates), args.baseCurrency);
    const tty = process.stderr.isTTY === true && !args.quiet;
    const show = (p: ImportProgress) => {
      if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
    };
    const started = performance.now();
    const result = await runImport(
      createReadStream(args.file, { encoding: "utf8", highWaterMark: 1 << 20 }),
      size,
      {
        fileSha256,
        userId: args.userId,
        timezone: args.timezone,
        baseCurrency: args.baseCurrency,
        replay: args.replay,
        speed: args.speed,
        maxErrors: SHOWN_ERRORS,
        rowsTotal,
      },
      {
        publisher: createImportPublisher({
          nc,
          namespace: args.namespace,
          importId: `cli-${fileSha256.slice(0, 12)}`,
          clock: { now: () => new Date() },
        }),
        rates,
        timer: realTimer,
        progressEveryMs: 100,
        onProgress: show,
      },
    );
    if (tty) process.stderr.write("\n");
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(result.rowsProcessed / seconds) : 0;
    process.stdout.write(
      `${result.rowsProcessed} rows: ${result.rowsImported} imported, ${result.rowsFailed} bad, in ${formatDuration(seconds * 1000)} (${rate} rows/s)\n`,
    );
    for (const e of result.errors) process.stdout.write(`  line ${e.line}: ${e.reason}: ${e.message}\n`);
    if (result.errorsTruncated) {
      process.stdout.write(`  ... and ${result.rowsFailed - result.errors.length} more bad rows\n`);
    }
    return result.fatal === undefined ? 0 : 1;
  } finally {
    await nc.drain();
  }
}

process.exitCode = await main();
