import type { Clock } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import type { MailOutcome } from "./mail-metrics.js";
import type { TransactionFacts } from "./mail-model.js";
import { kindOf } from "./mail-model.js";
import type { MailSender } from "./mail-sender.js";
import { isPermanentMailFailure } from "./mail-sender.js";
import type { MailSettlement, QueuedMail, Recipient } from "./mail-store.js";
import { mailStore } from "./mail-store.js";
import { renderMail } from "./render-mail.js";

/** How the outbox finds a user's address when its own copy has none: identity, asked as this service. */
export type RecipientLookup = (userId: string) => Promise<Recipient | undefined>;

export interface MailOutboxSettings {
  /** The From header, e.g. `Wallet <no-reply@example.com>`. */
  from: string;
  /** Senders at the same time, each with its own connection and transaction. */
  concurrency: number;
  /** Mails one sender claims at once, sends together and marks in one statement. */
  batchSize: number;
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
 * Sends the queued mails, at least once each: a sender locks up to `batchSize` due mails with FOR UPDATE SKIP
 * LOCKED, so replicas share the queue without sending a mail twice at once, sends them together and marks them
 * all in the transaction that locked them; a process that dies mid-batch leaves every row of the batch pending
 * (the transaction never commits) and they are sent again. The user's switches are read again at sending (a
 * kind switched off meanwhile is skipped), the address comes from the kept copy or from identity. A temporary
 * failure (the server away, a 4xx answer, identity away) is retried after a backoff timed by `clock`; a
 * permanent one (a 5xx answer) or the last attempt marks it failed. Every mail carries a Message-ID made from
 * its key, so a receiving system can also tell a resend from a new mail.
 */
export function createMailOutbox(deps: {
  pool: pg.Pool;
  clock: Clock;
  sender: MailSender;
  lookupRecipient: RecipientLookup;
  logger: Logger;
  settings: MailOutboxSettings;
  /** Called after each attempt at a mail, with how it ended, once its batch is committed. */
  onOutcome?: (outcome: MailOutcome) => void;
}) {
  const { pool, clock, sender, lookupRecipient, settings } = deps;
  const log = deps.logger.child({ component: "mail-outbox" });
  let running = false;
  let loops: Array<Promise<void>> = [];
  const sleepers = new Set<() => void>();

  /**
   * One attempt at a claimed mail; never throws, so that one mail's end never costs the batch's others theirs.
   * `addresses` holds identity's answers for this batch, one question per user.
   */
  async function attempt(
    mail: QueuedMail,
    at: Date,
    payments: Map<string, TransactionFacts>,
    addresses: Map<string, Promise<Recipient | undefined>>,
  ): Promise<MailSettlement> {
    const ended = (outcome: "sent" | "failed" | "skipped", error?: string): MailSettlement => ({
      id: mail.id,
      outcome,
      at: clock.now(),
      error,
    });
    const kind = kindOf(mail.content);
    if (kind !== undefined && !mail.preferences[kind]) return ended("skipped", `${kind} switched off`);
    let recipient = mail.recipient;
    if (recipient === undefined) {
      try {
        let asked = addresses.get(mail.userId);
        if (asked === undefined) {
          asked = lookupRecipient(mail.userId);
          addresses.set(mail.userId, asked);
        }
        recipient = await asked;
      } catch (err) {
        const retryAt = new Date(at.getTime() + mailBackoffMs(mail.attempts + 1, settings));
        log.warn({ err, mail_id: mail.id }, "the recipient's address could not be looked up; retrying later");
        return { id: mail.id, outcome: "retried", at: clock.now(), retryAt, error: "address lookup failed" };
      }
    }
    if (recipient === undefined || recipient.deleted) {
      return ended("skipped", recipient === undefined ? "unknown user" : "user deleted");
    }
    const c = mail.content;
    const payment =
      c.template === "review_held" || c.template === "review_decided"
        ? payments.get(c.transactionId)
        : undefined;
    let rendered: ReturnType<typeof renderMail>;
    try {
      rendered = renderMail(c, payment);
    } catch (err) {
      // A mail that cannot be written (an amount its currency refuses) never will be: out of the queue, so
      // that it does not stand before every other mail.
      const reason = err instanceof Error ? err.message : String(err);
      log.error({ mail_id: mail.id, event_id: mail.eventId, reason }, "mail cannot be rendered; given up");
      return ended("failed", reason);
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
        log.error({ mail_id: mail.id, event_id: mail.eventId, attempts, reason }, "mail not sent; given up");
        return ended("failed", reason);
      }
      const retryAt = new Date(at.getTime() + mailBackoffMs(attempts, settings));
      log.warn({ mail_id: mail.id, attempts, retry_at: retryAt, reason }, "mail not sent; retrying later");
      return { id: mail.id, outcome: "retried", at: clock.now(), retryAt, error: reason };
    }
    return ended("sent");
  }

  /** Sends a batch of due mails; returns how many it took from the queue (0 when none was due). */
  async function sendBatch(): Promise<number> {
    const client = await pool.connect();
    // A checked-out client has no pool error listener: a connection lost while the mails are being sent would
    // otherwise crash the process. The rows stay locked only until Postgres notices, then pending again.
    let broken: Error | undefined;
    const onClientError = (error: Error) => {
      broken ??= error;
    };
    client.on("error", onClientError);
    let done = false;
    try {
      await client.query("BEGIN");
      const mails = await mailStore.claimDue(client, clock.now(), settings.batchSize);
      if (mails.length === 0) {
        await client.query("COMMIT");
        done = true;
        return 0;
      }
      const at = clock.now();
      const payments = await mailStore.getTransactions(
        client,
        mails.flatMap(({ content: c }) =>
          c.template === "review_held" || c.template === "review_decided" ? [c.transactionId] : [],
        ),
      );
      const addresses = new Map<string, Promise<Recipient | undefined>>();
      const outcomes = await Promise.all(mails.map((mail) => attempt(mail, at, payments, addresses)));
      // Identity's answers are kept, on the sender's own connection: a second one per sender could exhaust the
      // pool with every sender holding one. One that never heard of the user is not kept.
      for (const [userId, asked] of addresses) {
        const found = await asked.catch(() => undefined);
        if (found !== undefined) await mailStore.putRecipient(client, userId, found, new Date(0));
      }
      await mailStore.settle(client, outcomes);
      await client.query("COMMIT");
      done = true;
      for (const o of outcomes) deps.onOutcome?.(o.outcome);
      return mails.length;
    } finally {
      if (!done) {
        await client.query("ROLLBACK").catch((err: unknown) => {
          broken ??= err instanceof Error ? err : new Error(String(err));
        });
      }
      client.removeListener("error", onClientError);
      // release(error) makes the pool destroy a broken connection instead of reusing it.
      client.release(broken);
    }
  }

  async function loop(): Promise<void> {
    while (running) {
      let sent = false;
      try {
        sent = (await sendBatch()) > 0;
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
    /** Sends every mail due now, a batch after the other, and returns how many it took (tests, tools). */
    async drain(): Promise<number> {
      let n = 0;
      for (let taken = await sendBatch(); taken > 0; taken = await sendBatch()) n += taken;
      return n;
    },
  };
}

export type MailOutbox = ReturnType<typeof createMailOutbox>;
