import type { MailOutboxSettings } from "../mail-outbox.js";

/** A mail outbox's settings as the service's defaults have them, one sender: for outboxes a test builds itself. */
export const TEST_MAIL_SETTINGS: MailOutboxSettings = {
  from: "Wallet <no-reply@wallet.localhost>",
  concurrency: 1,
  batchSize: 20,
  pollIntervalMs: 1_000,
  maxAttempts: 12,
  backoffMs: 30_000,
  maxBackoffMs: 3_600_000,
};
