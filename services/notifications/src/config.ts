import { authEnv } from "@fintech/auth";
import { envBool, parseConfig, serviceEnv, serviceRegistry } from "@fintech/platform";
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
    ...authEnv("notifications"),
  })
  .superRefine((c, ctx) => {
    if (c.NODE_ENV === "production" && c.WEBHOOK_SECRET_KEY === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["WEBHOOK_SECRET_KEY"],
        message: "required in production (32 bytes in base64: openssl rand -base64 32)",
      });
    }
  });

export type NotificationsConfig = z.infer<typeof notificationsEnv>;

/** Reads and validates the notifications service's environment; throws one message naming every bad variable. */
export const parseNotificationsConfig = (env: NodeJS.ProcessEnv = process.env): NotificationsConfig =>
  parseConfig(notificationsEnv, env);
