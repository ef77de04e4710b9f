import type { ReceivedSpan } from "@fintech/testing/otlp-receiver";

/** One span of a purchase's request path, as the median over the traced purchases. */
export interface HopRow {
  /** The exporting process, the span's name and kind: "wallet fintech.fraud.v1.FraudService/Score (client)". */
  span: string;
  /** In how many of the traced purchases it appeared (at most once counted per purchase). */
  seen: number;
  /** Median start, in ms after the purchase's request arrived at the gateway. */
  atMs: number;
  /** Median duration, in ms. */
  tookMs: number;
  /**
   * For a call (client span) answered by a traced server: the median of its duration minus the server span's,
   * what the hop itself cost (serializing, the connection, the server's stack before and after the handler).
   */
  hopMs?: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/**
 * Where a purchase's time goes, from the spans of traced purchases: every span of a trace whose root is the
 * gateway's `rootName` request and that starts before the root ends (the request path, not the events it set
 * off), as medians per span, ordered by when they start. A span repeated within a purchase is counted once, its
 * first. Span start times come from the exporter's wall clock (ms resolution), durations from a monotonic one.
 * `slowest` (a share, 0.02 for 2%) keeps only the purchases whose request took longest: where the tail goes.
 */
export function hopBreakdown(
  spans: readonly ReceivedSpan[],
  rootName: string,
  slowest = 1,
): { purchases: number; rows: HopRow[] } {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const s of spans) {
    const list = byTrace.get(s.traceId);
    if (list === undefined) byTrace.set(s.traceId, [s]);
    else list.push(s);
  }
  const rooted: Array<{ root: ReceivedSpan; trace: ReceivedSpan[] }> = [];
  for (const trace of byTrace.values()) {
    const root = trace.find((s) => s.parentSpanId === "" && s.name === rootName);
    if (root !== undefined) rooted.push({ root, trace });
  }
  const took = (s: ReceivedSpan) => s.endMs - s.startMs;
  rooted.sort((a, b) => took(b.root) - took(a.root));
  const kept = rooted.slice(0, Math.ceil(rooted.length * slowest));
  const acc = new Map<string, { at: number[]; took: number[]; hop: number[] }>();
  for (const { root, trace } of kept) {
    const children = new Map<string, ReceivedSpan>();
    for (const s of trace) if (s.kind === "server") children.set(s.parentSpanId, s);
    const seen = new Set<string>();
    for (const s of [...trace].sort((a, b) => a.startMs - b.startMs)) {
      if (s.startMs > root.endMs) continue;
      const key = `${s.service} ${s.name} (${s.kind})`;
      if (seen.has(key)) continue;
      seen.add(key);
      let entry = acc.get(key);
      if (entry === undefined) {
        entry = { at: [], took: [], hop: [] };
        acc.set(key, entry);
      }
      entry.at.push(s.startMs - root.startMs);
      entry.took.push(took(s));
      const server = s.kind === "client" ? children.get(s.spanId) : undefined;
      if (server !== undefined) entry.hop.push(took(s) - took(server));
    }
  }
  const rows = [...acc].map(
    ([span, e]): HopRow => ({
      span,
      seen: e.at.length,
      atMs: median(e.at),
      tookMs: median(e.took),
      ...(e.hop.length > 0 && { hopMs: median(e.hop) }),
    }),
  );
  rows.sort((a, b) => a.atMs - b.atMs || b.tookMs - a.tookMs);
  return { purchases: kept.length, rows };
}
