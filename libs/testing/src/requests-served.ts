// How many requests one service process has handled, from its own /metrics: the platform's RPCs only (health
// checks, which every balanced caller sends, are left out).
const COUNTER = "rpc_server_requests_total{";

/**
 * The sum of `rpc_server_requests_total` over the fintech.* services the process at `metricsUrl` served since it
 * started; undefined when it does not answer.
 */
export async function requestsServed(metricsUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    let total = 0;
    for (const line of (await res.text()).split("\n")) {
      if (line.startsWith(COUNTER) && line.includes('service="fintech.')) {
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return total;
  } catch {
    return undefined;
  }
}
