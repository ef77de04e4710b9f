import { Counter, register } from "prom-client";

/** How a queued mail's attempt ended: sent, retried later, failed for good, or skipped (switched off, no address). */
export type MailOutcome = "sent" | "retried" | "failed" | "skipped";

let mails: Counter<"outcome"> | undefined;

/**
 * `notifications_mails_total{outcome}`: attempts at queued e-mail by how they ended (prom-client's default
 * registry, like the platform's). Created once per process: several services built in one process share it.
 */
export function mailMetrics(): { mails: Counter<"outcome"> } {
  const existing = register.getSingleMetric("notifications_mails_total");
  mails ??=
    existing instanceof Counter
      ? (existing as Counter<"outcome">)
      : new Counter({
          name: "notifications_mails_total",
          help: "Attempts at queued e-mail, by outcome: sent, retried (a temporary failure), failed, skipped.",
          labelNames: ["outcome"],
        });
  return { mails };
}
