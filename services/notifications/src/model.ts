// The notifications service's domain types, shared by its store, domain logic and routes.

/** The event types an endpoint can receive, in the order the API lists them. */
export const WEBHOOK_EVENT_TYPES = [
  "transaction.created",
  "transaction.completed",
  "transaction.failed",
  "transaction.reversed",
  "transaction.refunded",
  "review.held",
  "review.decided",
  "wallet.created",
  "user.status_changed",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Who acts on endpoints: a user (API keys included) and whether they are an admin. */
export interface Actor {
  userId: string;
  admin: boolean;
}

/** An endpoint as stored, its secrets still sealed. */
export interface EndpointRow {
  id: string;
  /** The owner; undefined for a platform-wide endpoint. */
  userId: string | undefined;
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
  disabledReason: string;
  secret: Buffer;
  previousSecret: Buffer | undefined;
  previousSecretExpiresAt: Date | undefined;
  failingSince: Date | undefined;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint as its owner sees it; `secret` only in the answer that made it. */
export interface Endpoint extends Omit<EndpointRow, "secret" | "previousSecret"> {
  secret?: string;
}
