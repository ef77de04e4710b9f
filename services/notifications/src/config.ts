import { authEnv } from "@fintech/auth";
import { envBool, envCsv, envInt, envUrl, parseConfig, serviceEnv, serviceRegistry } from "@fintech/platform";
import { z } from "zod";

// WEBHOOK_SECRET_KEY: 32 random bytes in base64 (`openssl rand -base64 32`), the AES-256-GCM key that endpoint
// secrets are stored under, so that a dump of the database alone cannot sign a delivery.
const secretKey = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text === "") return undefined;
    const key = Buffer.from(text, "base64");
    if (key.length !== 32 || key.toString("base64") !== text.replace(/\s/g, "")) {
      // Never echo the value: it is a secret.
      ctx.addIssue({ code: "custom", message: "expected 32 bytes in base64 (openssl rand -base64 32)" });
      return z.NEVER;
    }
    return key;
  });

// AUDIT_SIGNING_KEY: the Ed25519 seed (32 random bytes in base64, `openssl rand -base64 32`) that signs the audit
// chain's checkpoints. Unset, a key is made at each start (development; a warning says so).
const signingSeed = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text === "") return undefined;
    const seed = Buffer.from(text, "base64");
    if (seed.length !== 32 || seed.toString("base64") !== text.replace(/\s/g, "")) {
      // Never echo the value: it is a secret.
      ctx.addIssue({ code: "custom", message: "expected 32 bytes in base64 (openssl rand -base64 32)" });
      return z.NEVER;
    }
    return seed;
  });

// AUDIT_TRUSTED_KEYS: earlier signing keys' public keys (raw 32 bytes, base64url, comma-separated), whose
// checkpoints verification still trusts after a key change.
const trustedKeys = envCsv().transform((list, ctx) => {
  const keys = list.map((k) => Buffer.from(k, "base64url"));
  if (keys.some((k) => k.length !== 32)) {
    ctx.addIssue({ code: "custom", message: "expected Ed25519 public keys, 32 bytes each in base64url" });
    return z.NEVER;
  }
  return keys;
});

// SMTP_URL: smtp://host:port (STARTTLS when offered) or smtps://host:465, with user:password@ when the server
// wants a login. The default is the local sink `./dev start` runs (maildev).
const smtpUrl = envUrl("smtp://127.0.0.1:1025").refine(
  (url) => /^smtps?:$/.test(new URL(url).protocol),
  "expected an smtp:// or smtps:// URL",
);

export const notificationsEnv = z
  .object({
    ...serviceEnv(serviceRegistry.notifications),
    /** "production" makes WEBHOOK_SECRET_KEY required (the image sets it). */
    NODE_ENV: z.string().default(""),
    WEBHOOK_SECRET_KEY: secretKey,
    /** Endpoints may be http:// (local development and tests); default false: https only. */
    WEBHOOK_ALLOW_HTTP: envBool(false),
    /** Endpoints may resolve to loopback, private or link-local addresses (local development and tests). */
    WEBHOOK_ALLOW_PRIVATE_TARGETS: envBool(false),
    /**
     * How long the consumers' batches (webhook events, mails, audit entries) wait for more events, in ms: a
     * webhook or receipt may leave this much later, and a steady stream of payments costs a transaction per few
     * dozen events rather than per event.
     */
    EVENT_BATCH_LINGER_MS: envInt(20, { min: 0, max: 5_000 }),
    AUDIT_SIGNING_KEY: signingSeed,
    AUDIT_TRUSTED_KEYS: trustedKeys,
    /** Milliseconds between passes of the audit sealer (one replica at a time). */
    AUDIT_SEAL_INTERVAL_MS: envInt(1_000, { min: 10, max: 600_000 }),
    /** A checkpoint of the audit chain after this many new records... */
    AUDIT_CHECKPOINT_EVERY: envInt(1_000, { min: 1, max: 1_000_000 }),
    /** ...or this many milliseconds after the last one, when there is anything new. */
    AUDIT_CHECKPOINT_INTERVAL_MS: envInt(60_000, { min: 100, max: 86_400_000 }),
    /** The mail server e-mail notifications go to. */
    SMTP_URL: smtpUrl,
    /** How long connecting, the greeting and each SMTP exchange may take, in ms. */
    SMTP_TIMEOUT_MS: envInt(10_000, { min: 100, max: 120_000 }),
    /** The From of every e-mail. */
    MAIL_FROM: z.string().min(3).default("Wallet <no-reply@wallet.localhost>"),
    /** Senders at the same time in one replica, each holding a database connection while it sends. */
    MAIL_SEND_CONCURRENCY: envInt(2, { min: 1, max: 64 }),
    /** Mails one sender claims at once, sends together and marks in one statement, in one transaction. */
    MAIL_SEND_BATCH_SIZE: envInt(20, { min: 1, max: 500 }),
    /** Pause between looks at an empty mail queue, in ms. */
    MAIL_POLL_INTERVAL_MS: envInt(1_000, { min: 10, max: 60_000 }),
    /** Attempts at one mail before it is given up. */
    MAIL_MAX_ATTEMPTS: envInt(12, { min: 1, max: 100 }),
    /** Wait before the first retry of a mail, in ms; it doubles per attempt up to MAIL_RETRY_MAX_MS. */
    MAIL_RETRY_MS: envInt(30_000, { min: 10, max: 3_600_000 }),
    MAIL_RETRY_MAX_MS: envInt(3_600_000, { min: 10, max: 86_400_000 }),
    /** Days a sent, failed or skipped mail is kept in the queue table before it is deleted. */
    MAIL_RETENTION_DAYS: envInt(30, { min: 1, max: 3_650 }),
    /** How long one delivery attempt may take before it counts as failed. */
    WEBHOOK_TIMEOUT_MS: envInt(10_000, { min: 100, max: 60_000 }),
    /** How long a delivery is retried, and an endpoint may fail before it is disabled. */
    WEBHOOK_RETRY_HOURS: envInt(72, { min: 1, max: 720 }),
    /** How long the previous secret keeps signing after a rotation, unless the rotation says. */
    WEBHOOK_ROTATION_OVERLAP_HOURS: envInt(24, { min: 0, max: 168 }),
    /** Deliveries in flight to one endpoint at most, across replicas. */
    WEBHOOK_ENDPOINT_CONCURRENCY: envInt(4, { min: 1, max: 64 }),
    /** Deliveries in flight in one replica at most. */
    WEBHOOK_CONCURRENCY: envInt(64, { min: 1, max: 1_000 }),
    /** How often a replica looks for due deliveries (retries; new events wake it at once). */
    WEBHOOK_POLL_INTERVAL_MS: envInt(1_000, { min: 10, max: 60_000 }),
    ...authEnv("notifications"),
  })
  .superRefine((c, ctx) => {
    // Each sender holds a connection while it sends; the consumers and the relay need some too.
    if (c.MAIL_SEND_CONCURRENCY >= c.DB_POOL_MAX) {
      ctx.addIssue({
        code: "custom",
        path: ["MAIL_SEND_CONCURRENCY"],
        message: `must be below DB_POOL_MAX (${c.DB_POOL_MAX}): each sender holds a database connection`,
      });
    }
    if (c.NODE_ENV === "production" && c.WEBHOOK_SECRET_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET_KEY"],
        message: "required in production (32 bytes in base64: openssl rand -base64 32)",
      });
    }
    if (c.NODE_ENV === "production" && c.AUDIT_SIGNING_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["AUDIT_SIGNING_KEY"],
        message: "required in production (32 bytes in base64: openssl rand -base64 32)",
      });
    }
  });

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

/** Reads and validates the notifications service's environment; throws one message naming every bad variable. */
export const parseNotificationsConfig = (env: NodeJS.ProcessEnv = process.env): NotificationsConfig =>
  parseConfig(notificationsEnv, env);
