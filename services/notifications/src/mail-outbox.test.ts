import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createPool } from "@fintech/db";
import { UserRegisteredSchema } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { waitFor } from "@fintech/testing";
import { pino } from "pino";
import { describe, expect } from "vitest";
import { mailMetrics } from "./mail-metrics.js";
import { createMailOutbox } from "./mail-outbox.js";
import { smtpMailSender } from "./mail-sender.js";
import type { NotificationsHarness } from "./test/harness.js";
import { notificationsTest } from "./test/harness.js";
import { TEST_MAIL_SETTINGS } from "./test/mail-settings.js";

const test = notificationsTest();

interface QueueRow {
  event_id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
}

/** Users identity told the service about, each with a completed purchase queued for mail; the sender is off. */
async function queuedReceipts(n: NotificationsHarness, count: number) {
  // The service's own senders would take the mails first: this file sends them by hand.
  await n.app.mail.stop();
  const users = Array.from({ length: count }, () => {
    const id = randomUUID();
    return { id, email: `u-${id.slice(0, 8)}@example.com`, eventId: randomUUID() };
  });
  for (const u of users) {
    await n.publish(
      "identity.user.registered",
      UserRegisteredSchema,
      { userId: u.id, email: u.email, status: UserStatus.ACTIVE, occurredAt: timestampFromDate(new Date()) },
      randomUUID(),
    );
  }
  for (const u of users) {
    await n.publish(
      "wallet.transaction.completed",
      TransactionEventSchema,
      {
        transactionId: randomUUID(),
        userId: u.id,
        type: TransactionType.PURCHASE,
        status: TransactionStatus.COMPLETED,
        amount: { currency: "MYR", amount: "12.00" },
        merchantName: "Kopi Corner",
      },
      u.eventId,
    );
  }
  const ids = users.map((u) => u.eventId);
  await waitFor(async () => {
    const { rows } = await n.pool.query<{ queued: number; known: number }>(
      `SELECT (SELECT count(*)::int FROM mail_queue WHERE event_id = ANY ($1)) AS queued,
         (SELECT count(*)::int FROM mail_recipients WHERE user_id = ANY ($2)) AS known`,
      [ids, users.map((u) => u.id)],
    );
    return rows[0]?.queued === count && rows[0]?.known === count;
  });
  const rows = async () => {
    const { rows } = await n.pool.query<QueueRow>(
      "SELECT event_id, status, attempts, next_attempt_at, last_error FROM mail_queue WHERE event_id = ANY ($1)",
      [ids],
    );
    return new Map(rows.map((r) => [r.event_id, r]));
  };
  return { users, rows };
}

const messageIdOf = (eventId: string) => `<${eventId}.transaction@notifications.fintech>`;

describe("the mail sender, a batch at a time", () => {
  test("a batch of due mails is sent at once; only the one the mail server refused is retried, after its backoff", async ({
    notifications: n,
  }) => {
    try {
      const { users, rows } = await queuedReceipts(n, 5);
      const [quiet, ...others] = users;
      if (quiet === undefined) throw new Error("no users");
      // Switched off while the mail waited: skipped at sending, without an attempt.
      await n.preferencesAs(quiet.id).updateNotificationPreferences({ receipts: false });
      const counted = async (outcome: string) =>
        (await mailMetrics().mails.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      const before = {
        sent: await counted("sent"),
        retried: await counted("retried"),
        skipped: await counted("skipped"),
      };

      n.inbox.refuseNext(1);
      const claimedAt = n.clock.now().getTime();
      expect(await n.app.mail.drain()).toBe(5);
      const received = others.filter((u) => n.inbox.mailsTo(u.email).length > 0);
      const refused = others.filter((u) => n.inbox.mailsTo(u.email).length === 0);
      expect(received).toHaveLength(3);
      expect(refused).toHaveLength(1);
      const [again] = refused;
      if (again === undefined) throw new Error("none refused");
      expect(n.inbox.mailsTo(quiet.email)).toEqual([]);

      const after = await rows();
      expect(after.get(quiet.eventId)).toMatchObject({
        status: "skipped",
        attempts: 0,
        last_error: "receipts switched off",
      });
      for (const u of received) {
        expect(after.get(u.eventId)).toMatchObject({ status: "sent", attempts: 1, last_error: null });
        expect(n.inbox.mailsTo(u.email).map((m) => m.messageId)).toEqual([messageIdOf(u.eventId)]);
      }
      const waiting = after.get(again.eventId);
      expect(waiting).toMatchObject({ status: "pending", attempts: 1 });
      expect(waiting?.last_error).toMatch(/451/);
      // MAIL_RETRY_MS (30 s) after the batch was claimed.
      expect(waiting?.next_attempt_at.getTime()).toBe(claimedAt + 30_000);
      expect((await counted("sent")) - before.sent).toBe(3);
      expect((await counted("retried")) - before.retried).toBe(1);
      expect((await counted("skipped")) - before.skipped).toBe(1);

      n.clock.advance(29_000);
      expect(await n.app.mail.drain()).toBe(0);
      n.clock.advance(1_000);
      expect(await n.app.mail.drain()).toBe(1);
      expect(n.inbox.mailsTo(again.email).map((m) => m.messageId)).toEqual([messageIdOf(again.eventId)]);
      expect((await rows()).get(again.eventId)).toMatchObject({ status: "sent", attempts: 2 });
      for (const u of received) expect(n.inbox.mailsTo(u.email)).toHaveLength(1);
    } finally {
      n.inbox.refuseNext(0);
      n.app.mail.start();
    }
  });

  test("a sender whose database connection is lost mid-batch goes on: the batch is pending again, then sent", async ({
    notifications: n,
  }) => {
    try {
      const { users, rows } = await queuedReceipts(n, 2);
      const smtp = smtpMailSender(n.inbox.url);
      let sending!: () => void;
      const halfway = new Promise<void>((resolve) => {
        sending = resolve;
      });
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      const pool = createPool({
        url: n.pg.url,
        schema: n.pg.schema,
        max: 2,
        applicationName: "mail-lost-conn",
      });
      const outbox = createMailOutbox({
        pool,
        clock: n.clock,
        sender: {
          async send(mail) {
            sending();
            await resumed;
            await smtp.send(mail);
          },
          close: () => smtp.close(),
        },
        lookupRecipient: async () => undefined,
        logger: pino({ level: "silent" }),
        settings: TEST_MAIL_SETTINGS,
      });
      try {
        const draining = outbox.drain();
        await halfway;
        // The connection holding the batch goes while the mails are with the mail server.
        await n.pool.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mail-lost-conn'",
        );
        await sleep(100);
        resume();
        await expect(draining).rejects.toThrow();
        // Nothing of the batch was written; the process is still here, and the next pass sends them.
        for (const r of (await rows()).values()) expect(r).toMatchObject({ status: "pending", attempts: 0 });
        expect(await outbox.drain()).toBe(2);
        for (const r of (await rows()).values()) expect(r).toMatchObject({ status: "sent", attempts: 1 });
        for (const u of users) expect(n.inbox.mailsTo(u.email).length).toBeGreaterThanOrEqual(1);
      } finally {
        await outbox.stop();
        smtp.close();
        await pool.end();
      }
    } finally {
      n.app.mail.start();
    }
  });

  test("a sender that dies mid-batch leaves the whole batch pending, and every mail is sent after", async ({
    notifications: n,
  }) => {
    try {
      const { users, rows } = await queuedReceipts(n, 3);
      const [victim, ...others] = users;
      if (victim === undefined) throw new Error("no users");
      const child = spawn(
        process.execPath,
        [
          "--conditions=source",
          "--import",
          "tsx",
          fileURLToPath(new URL("./test/mail-crash-child.ts", import.meta.url)),
        ],
        {
          env: {
            ...process.env,
            DATABASE_URL: n.pg.url,
            SCHEMA: n.pg.schema,
            SMTP_URL: n.inbox.url,
            VICTIM: victim.email,
            NOW: n.clock.now().toISOString(),
          },
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const exited = once(child, "exit");
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
      });
      try {
        // The others are out, the victim's send hangs: the batch's transaction is open.
        await waitFor(() => out.includes("hanging") && out.split("sent\n").length - 1 === others.length);
        for (const u of others) expect(n.inbox.mailsTo(u.email)).toHaveLength(1);
        // Another sender skips the rows the dying one holds (SKIP LOCKED).
        expect(await n.app.mail.drain()).toBe(0);
      } finally {
        child.kill("SIGKILL");
      }
      expect(await exited).toEqual([null, "SIGKILL"]);

      // Nothing of the batch was written: every mail is pending, no attempt counted, and the next sender (once
      // Postgres has seen the connection go) sends them all, the ones already out again under the same Message-ID.
      for (const r of (await rows()).values()) {
        expect(r).toMatchObject({ status: "pending", attempts: 0, last_error: null });
      }
      await waitFor(async () => (await n.app.mail.drain()) > 0);
      for (const r of (await rows()).values()) expect(r).toMatchObject({ status: "sent", attempts: 1 });
      expect(n.inbox.mailsTo(victim.email).map((m) => m.messageId)).toEqual([messageIdOf(victim.eventId)]);
      for (const u of others) {
        expect(n.inbox.mailsTo(u.email).map((m) => m.messageId)).toEqual([
          messageIdOf(u.eventId),
          messageIdOf(u.eventId),
        ]);
      }
    } finally {
      n.app.mail.start();
    }
  }, 30_000);
});
