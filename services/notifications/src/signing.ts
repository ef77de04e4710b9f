import { createHmac } from "node:crypto";

/** The Standard Webhooks headers of one delivery attempt. */
export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * The Standard Webhooks headers for `body` sent as message `id` at `at`: webhook-signature holds
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` for each secret (`whsec_...`), space-separated, so a receiver
 * verifies with whichever it knows during a rotation.
 */
export function signWebhook(secrets: readonly string[], id: string, at: Date, body: string): WebhookHeaders {
  if (secrets.length === 0) throw new Error("a webhook is never sent unsigned");
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signatures = secrets.map((secret) => {
    const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
    const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
    return `v1,${mac}`;
  });
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signatures.join(" ") };
}
