import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseNotificationsConfig } from "./config.js";

describe("notifications configuration", () => {
  it("has safe defaults: https only, no internal targets, no key outside production", () => {
    const config = parseNotificationsConfig({});
    expect(config.PORT).toBe(50057);
    expect(config.METRICS_PORT).toBe(9157);
    expect(config.DB_SCHEMA).toBe("notifications");
    expect(config.WEBHOOK_ALLOW_HTTP).toBe(false);
    expect(config.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
    expect(config.WEBHOOK_SECRET_KEY).toBeUndefined();
  });

  it("requires the secret key in production and never echoes a bad one", () => {
    expect(() => parseNotificationsConfig({ NODE_ENV: "production" })).toThrow(
      /WEBHOOK_SECRET_KEY: required in production/,
    );
    const key = randomBytes(32).toString("base64");
    expect(
      parseNotificationsConfig({ NODE_ENV: "production", WEBHOOK_SECRET_KEY: key, AUDIT_SIGNING_KEY: key })
        .WEBHOOK_SECRET_KEY,
    ).toEqual(Buffer.from(key, "base64"));
    const short = randomBytes(16).toString("base64");
    let message = "";
    try {
      parseNotificationsConfig({ WEBHOOK_SECRET_KEY: short });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toMatch(/WEBHOOK_SECRET_KEY: expected 32 bytes in base64/);
    expect(message).not.toContain(short);
  });

  it("requires the audit signing key in production, and reads earlier keys to trust", () => {
    const webhookKey = randomBytes(32).toString("base64");
    expect(() =>
      parseNotificationsConfig({ NODE_ENV: "production", WEBHOOK_SECRET_KEY: webhookKey }),
    ).toThrow(/AUDIT_SIGNING_KEY: required in production/);
    const seed = randomBytes(32).toString("base64");
    const earlier = randomBytes(32).toString("base64url");
    const config = parseNotificationsConfig({ AUDIT_SIGNING_KEY: seed, AUDIT_TRUSTED_KEYS: earlier });
    expect(config.AUDIT_SIGNING_KEY).toEqual(Buffer.from(seed, "base64"));
    expect(config.AUDIT_TRUSTED_KEYS).toEqual([Buffer.from(earlier, "base64url")]);
    expect(() => parseNotificationsConfig({ AUDIT_TRUSTED_KEYS: "short" })).toThrow(/AUDIT_TRUSTED_KEYS/);
    let message = "";
    try {
      parseNotificationsConfig({ AUDIT_SIGNING_KEY: "c2hvcnQ=" });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toMatch(/AUDIT_SIGNING_KEY: expected 32 bytes in base64/);
    expect(message).not.toContain("c2hvcnQ=");
  });

  it("sends e-mail to the local sink by default, takes only smtp:// or smtps://, and never echoes a password", () => {
    expect(parseNotificationsConfig({}).SMTP_URL).toBe("smtp://127.0.0.1:1025");
    expect(parseNotificationsConfig({ SMTP_URL: "smtps://mailer:pw@mail.example.com:465" }).SMTP_URL).toBe(
      "smtps://mailer:pw@mail.example.com:465",
    );
    let message = "";
    try {
      parseNotificationsConfig({ SMTP_URL: "https://mailer:hunter2@mail.example.com" });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toMatch(/SMTP_URL: expected an smtp:\/\/ or smtps:\/\/ URL/);
    expect(message).not.toContain("hunter2");
  });

  it("keeps database connections for more than the mail senders", () => {
    expect(() => parseNotificationsConfig({ MAIL_SEND_CONCURRENCY: "10", DB_POOL_MAX: "10" })).toThrow(
      /MAIL_SEND_CONCURRENCY: must be below DB_POOL_MAX \(10\)/,
    );
    expect(
      parseNotificationsConfig({ MAIL_SEND_CONCURRENCY: "4", DB_POOL_MAX: "10" }).MAIL_SEND_CONCURRENCY,
    ).toBe(4);
    // Senders take mails a batch at a time, each batch on the sender's one connection.
    expect(parseNotificationsConfig({}).MAIL_SEND_BATCH_SIZE).toBe(20);
    expect(() => parseNotificationsConfig({ MAIL_SEND_BATCH_SIZE: "0" })).toThrow(/MAIL_SEND_BATCH_SIZE/);
  });
});
