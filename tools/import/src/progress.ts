/** What the progress line shows. */
export interface ProgressView {
  bytesTotal: number;
  /** Rows expected (0: unknown, progress by bytes). */
  rowsTotal: number;
  bytesProcessed: number;
  rowsProcessed: number;
  rowsFailed: number;
  /** Milliseconds since the import began. */
  elapsedMs: number;
}

const BAR_WIDTH = 24;

/** "1:05", "12:00:03": a duration in whole seconds. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * One progress line: a bar by rows (by bytes read when the rows to expect are unknown), rows so far, rows per
 * second and the time left at the current rate (an estimate: "--:--" until there is a rate).
 * `[#########...............]  38%  380,000 rows  21,345 rows/s  ETA 0:29  12 bad`
 */
export function progressLine(p: ProgressView): string {
  const byRows = p.rowsTotal > 0;
  const fraction = byRows
    ? Math.min(1, p.rowsProcessed / p.rowsTotal)
    : p.bytesTotal > 0
      ? Math.min(1, p.bytesProcessed / p.bytesTotal)
      : 1;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.rowsProcessed / seconds : 0;
  const done = byRows ? p.rowsProcessed : p.bytesProcessed;
  const total = byRows ? p.rowsTotal : p.bytesTotal;
  const doneRate = seconds > 0 ? done / seconds : 0;
  const eta = doneRate > 0 ? formatDuration((Math.max(0, total - done) / doneRate) * 1000) : "--:--";
  const pct = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rows = p.rowsProcessed.toLocaleString("en-US");
  const bad = p.rowsFailed > 0 ? `  ${p.rowsFailed.toLocaleString("en-US")} bad` : "";
  return `${bar} ${pct}  ${rows} rows  ${Math.round(rate).toLocaleString("en-US")} rows/s  ETA ${eta}${bad}`;
}
