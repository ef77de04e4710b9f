import type { Queryable } from "@fintech/db";
import type { Clock } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import type { MailOutcome } from "./mail-metrics.js";
import { kindOf } from "./mail-model.js";
import type { MailSender } from "./mail-sender.js";
import { isPermanentMailFailure } from "./mail-sender.js";
import type { QueuedMail, Recipient } from "./mail-store.js";
import { mailStore } from "./mail-store.js";
import { renderMail } from "./render-mail.js";

/** How the outbox finds a user's address when its own copy has none: identity, asked as this service. */
export type RecipientLookup = (userId: string) => Promise<Recipient | undefined>;

export interface MailOutboxSettings {
  /** The From header, e.g. `Wallet <no-reply@example.com>`. */
  from: string;
  /** Mails sent at the same time (each in its own transaction). */
  concurrency: number;
  /** Pause between looks at an empty queue, in ms. */
  pollIntervalMs: number;
  /** Attempts before a mail is given up (failed). */
  maxAttempts: number;
  /** Wait before the first retry, in ms; it doubles per attempt up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** The wait before retry number `attempt` (1 = the first retry): backoffMs doubled per attempt, capped. */
export function mailBackoffMs(
  attempt: number,
  settings: Pick<MailOutboxSettings, "backoffMs" | "maxBackoffMs">,
) {
  return Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Sends the queued mails, at least once each: a sender locks one due mail with FOR UPDATE SKIP LOCKED, so
 * replicas share the queue without sending a mail twice at once, and marks it in the transaction that locked
 * it; a process that dies mid-send leaves the row pending and it is sent again. The user's switches are read
 * again at sending (a kind switched off meanwhile is skipped), the address comes from the kept copy or from
 * identity. A temporary failure (the server away, a 4xx answer, identity away) is retried after a backoff timed
 * by `clock`; a permanent one (a 5xx answer) or the last attempt marks it failed. Every mail carries a
 * Message-ID made from its key, so a receiving system can also tell a resend from a new mail.
 */
export function createMailOutbox(deps: {
  pool: pg.Pool;
  clock: Clock;
  sender: MailSender;
  lookupRecipient: RecipientLookup;
  logger: Logger;
  settings: MailOutboxSettings;
  /** Called after each attempt at a mail, with how it ended. */
  onOutcome?: (outcome: MailOutcome) => void;
}) {
  const { pool, clock, sender, lookupRecipient, settings } = deps;
  const log = deps.logger.child({ component: "mail-outbox" });
  let running = false;
  let loops: Array<Promise<void>> = [];
  const sleepers = new Set<() => void>();

  // On the sender's own connection: a second one per sender could exhaust the pool with every sender holding one.
  async function recipientOf(db: Queryable, mail: QueuedMail): Promise<Recipient | undefined> {
    if (mail.recipient !== undefined) return mail.recipient;
    const userId = mail.userId;
    const found = await lookupRecipient(userId);
    if (found !== undefined) await mailStore.putRecipient(db, userId, found, new Date(0));
    return found;
  }

  /** Sends one due mail; false when none was due. */
  async function sendOne(): Promise<boolean> {
    const client = await pool.connect();
    let done = false;
    try {
      await client.query("BEGIN");
      const mail = await mailStore.claimDue(client, clock.now());
      if (mail === undefined) {
        await client.query("COMMIT");
        done = true;
        return false;
      }
      const at = clock.now();
      const kind = kindOf(mail.content);
      const finish = async (status: "sent" | "failed" | "skipped", error?: string) => {
        await mailStore.finish(client, mail.id, { status, at: clock.now(), error });
        await client.query("COMMIT");
        done = true;
        deps.onOutcome?.(status);
      };
      if (kind !== undefined && !mail.preferences[kind]) {
        await finish("skipped", `${kind} switched off`);
        return true;
      }
      let recipient: Recipient | undefined;
      try {
        recipient = await recipientOf(client, mail);
      } catch (err) {
        const retryAt = new Date(at.getTime() + mailBackoffMs(mail.attempts + 1, settings));
        log.warn({ err, mail_id: mail.id }, "the recipient's address could not be looked up; retrying later");
        await mailStore.retryLater(client, mail.id, retryAt, "address lookup failed");
        await client.query("COMMIT");
        done = true;
        deps.onOutcome?.("retried");
        return true;
      }
      if (recipient === undefined || recipient.deleted) {
        await finish("skipped", recipient === undefined ? "unknown user" : "user deleted");
        return true;
      }
      const c = mail.content;
      const payment =
        c.template === "review_held" || c.template === "review_decided"
          ? await mailStore.getTransaction(client, c.transactionId)
          : undefined;
      let rendered: ReturnType<typeof renderMail>;
      try {
        rendered = renderMail(c, payment);
      } catch (err) {
        // A mail that cannot be written (an amount its currency refuses) never will be: out of the queue, so
        // that it does not stand before every other mail.
        const reason = err instanceof Error ? err.message : String(err);
        log.error({ mail_id: mail.id, event_id: mail.eventId, reason }, "mail cannot be rendered; given up");
        await finish("failed", reason);
        return true;
      }
      try {
        await sender.send({
          from: settings.from,
          to: recipient.email,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId: `<${mail.eventId}.${mail.content.template}@notifications.fintech>`,
        });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const attempts = mail.attempts + 1;
        // The log names the mail, never the address or the server's URL (which may hold a password).
        if (isPermanentMailFailure(err) || attempts >= settings.maxAttempts) {
          log.error(
            { mail_id: mail.id, event_id: mail.eventId, attempts, reason },
            "mail not sent; given up",
          );
          await finish("failed", reason);
        } else {
          const retryAt = new Date(at.getTime() + mailBackoffMs(attempts, settings));
          log.warn(
            { mail_id: mail.id, attempts, retry_at: retryAt, reason },
            "mail not sent; retrying later",
          );
          await mailStore.retryLater(client, mail.id, retryAt, reason);
          await client.query("COMMIT");
          done = true;
          deps.onOutcome?.("retried");
        }
        return true;
      }
      await finish("sent");
      return true;
    } finally {
      if (!done) await client.query("ROLLBACK").catch(() => undefined);
      client.release();
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let sent = false;
      try {
        sent = await sendOne();
      } catch (err) {
        log.error({ err }, "mail outbox pass failed");
      }
      if (!sent && running) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            sleepers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, settings.pollIntervalMs);
          sleepers.add(wake);
        });
      }
    }
  }

  return {
    /** Starts the senders in the background. */
    start(): void {
      if (running) return;
      running = true;
      loops = Array.from({ length: settings.concurrency }, () => loop());
    },
    /** Stops taking mails and waits for the ones being sent. */
    async stop(): Promise<void> {
      running = false;
      for (const wake of [...sleepers]) wake();
      await Promise.all(loops);
      loops = [];
    },
    /** Sends every mail due now, one after the other, and returns how many left the queue (tests, tools). */
    async drain(): Promise<number> {
      let n = 0;
      while (await sendOne()) n++;
      return n;
    },
  };
}

export type MailOutbox = ReturnType<typeof createMailOutbox>;
