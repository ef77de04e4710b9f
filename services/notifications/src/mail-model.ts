/** The kinds of e-mail a user can switch off (GET/PUT /api/v1/users/me/notifications); each is on by default. */
export const MAIL_KINDS = ["receipts", "reviews"] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** A user's switches: a kind missing from the stored row is on. */
export type MailPreferences = Record<MailKind, boolean>;

/** Transaction types as the REST API writes them. */
export type TransactionKind = "top_up" | "withdrawal" | "purchase" | "transfer" | "conversion" | "refund";

/**
 * What one mail says, kept in the queue with it until it is sent. Amounts are decimal strings in the currency's
 * major units, as the events carry them; times are RFC 3339.
 */
export type MailContent =
  | {
      template: "transaction";
      /** What happened to the transaction: it completed, or an admin reversed it. */
      change: "completed" | "reversed";
      transactionId: string;
      type: TransactionKind;
      /** "outgoing" or "incoming" for a transfer's side; "" otherwise. */
      direction: string;
      amount: string;
      currency: string;
      merchantName: string;
      /** Where money came from or went to outside the platform ("visa", "wire"); "" inside it. */
      provider: string;
      occurredAt: string;
    }
  | {
      template: "review_held";
      transactionId: string;
      /** The amount in the platform's base currency, as fraud scored it. */
      amount: string;
      currency: string;
      occurredAt: string;
    }
  | {
      template: "review_decided";
      transactionId: string;
      decision: "approved" | "rejected";
      occurredAt: string;
    }
  | {
      template: "webhook_disabled";
      webhookId: string;
      url: string;
      /** When its deliveries started failing; "" when unknown. */
      failingSince: string;
      occurredAt: string;
    };

/**
 * Which switch a mail's template answers to; undefined for a notice about the account's own set-up (a webhook
 * endpoint switched off), which no switch silences.
 */
export const kindOf = (content: MailContent): MailKind | undefined =>
  content.template === "transaction"
    ? "receipts"
    : content.template === "webhook_disabled"
      ? undefined
      : "reviews";

/** A mail ready for SMTP. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** What a review notice says about its payment when the wallet's event told it: its own amount and merchant. */
export interface TransactionFacts {
  /** In the currency's minor units. */
  amountMinor: bigint;
  currency: string;
  merchantName: string;
}
