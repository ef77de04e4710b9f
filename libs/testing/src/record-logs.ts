import { Writable } from "node:stream";
import { createLogger } from "@fintech/platform";
import type { Logger } from "pino";

/** Log lines kept in memory, for asserting what a service wrote (and never wrote). */
export interface RecordedLogs {
  logger: Logger;
  /** Every line so far, as written (one JSON object per line). */
  lines: string[];
  /** Every line so far, joined. */
  text(): string;
}

/** A service's logger (libs/platform's createLogger) named `name` at `level` (default "info"), kept in memory. */
export function recordLogs(name: string, level = "info"): RecordedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ name, level, destination }), lines, text: () => lines.join("") };
}
