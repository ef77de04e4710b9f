// What one service process has done, from its own /metrics: the platform's RPCs it handled (health checks, which
// every balanced caller sends, are left out) and the events its consumers handled.
const RPCS = "rpc_server_requests_total{";
const EVENTS = "events_consumed_total{";

/** What a process has handled since it started. */
export interface Served {
  /** RPCs of the fintech.* services, whatever their outcome. */
  rpcs: number;
  /** Events its consumers handled (not the duplicates, the ignored or the retried ones). */
  events: number;
}

/** What the process whose /metrics are at `metricsUrl` has handled; undefined when it does not answer. */
export async function requestsServed(metricsUrl: string): Promise<Served | undefined> {
  try {
    const res = await fetch(`${metricsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    const served = { rpcs: 0, events: 0 };
    for (const line of (await res.text()).split("\n")) {
      const value = Number(line.slice(line.lastIndexOf(" ") + 1));
      if (line.startsWith(RPCS) && line.includes('service="fintech.')) served.rpcs += value;
      if (line.startsWith(EVENTS) && line.includes('outcome="handled"')) served.events += value;
    }
    return served;
  } catch {
    return undefined;
  }
}
