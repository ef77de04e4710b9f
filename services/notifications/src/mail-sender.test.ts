import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { SmtpInbox } from "@fintech/testing/smtp-inbox";
import { startSmtpInbox } from "@fintech/testing/smtp-inbox";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { MailSender, OutgoingMail } from "./mail-sender.js";
import { composeMail, smtpMailSender } from "./mail-sender.js";

let inbox: SmtpInbox;
beforeAll(async () => {
  inbox = await startSmtpInbox();
});
afterAll(async () => {
  await inbox.close();
});

// What a mail client shows of a mail: its envelope, the headers it has (names) and reads, its text and HTML.
const asRead = (address: string) => {
  const [mail, ...more] = inbox.mailsTo(address);
  expect(more).toEqual([]);
  if (mail === undefined) throw new Error(`no mail to ${address}`);
  const { headers, ...read } = mail;
  return { ...read, headerNames: [...headers.keys()].sort() };
};

const mails: Record<string, Omit<OutgoingMail, "to" | "messageId">> = {
  ascii: {
    from: "Wallet <no-reply@wallet.localhost>",
    subject: "Payment receipt: MYR 12.50 paid to Kopi Corner",
    text: "MYR 12.50 paid to Kopi Corner.\nThank you for using the wallet.",
    html: "<p>MYR 12.50 paid to Kopi Corner.</p>",
  },
  "non-ASCII, long lines, a line that starts with a dot": {
    from: "Portefeuille Élan <no-reply@wallet.localhost>",
    subject: `Payment receipt: EUR 1,234.50 paid to Café Ünïcode ☕ ${"and a name long enough to be folded ".repeat(3)}`,
    text: `Paid to Café Ünïcode ☕.\n.a line that starts with a dot\n${"a long line without a break ".repeat(8)}\n`,
    html: `<p>Paid to <b>Café Ünïcode ☕</b></p>\n<p>${"long ".repeat(40)}</p>\n.<p>dot</p>`,
  },
  "mostly non-Latin (base64 bodies)": {
    from: "Wallet <no-reply@wallet.localhost>",
    subject: "支払い領収書: JPY 1,200 をコーヒー店に支払いました",
    text: "コーヒー店に JPY 1,200 を支払いました。\nご利用ありがとうございます。",
    html: "<p>コーヒー店に JPY 1,200 を支払いました。</p>",
  },
};

describe("the SMTP sender", () => {
  test.each(Object.keys(mails))(
    "a mail (%s) reads the same as nodemailer's own composer writes it, envelope included",
    async (name) => {
      const mail = mails[name];
      if (mail === undefined) throw new Error(name);
      const tag = Object.keys(mails).indexOf(name);
      const ours = {
        ...mail,
        to: `ours-${tag}@example.com`,
        messageId: `<ours-${tag}@notifications.fintech>`,
      };
      const theirs = {
        ...mail,
        to: `theirs-${tag}@example.com`,
        messageId: `<theirs-${tag}@notifications.fintech>`,
      };

      const sender = smtpMailSender(inbox.url);
      const composer = nodemailer.createTransport({ host: "127.0.0.1", port: inbox.port, secure: false });
      try {
        await sender.send(ours);
        await composer.sendMail(theirs);
      } finally {
        sender.close();
        composer.close();
      }

      const read = asRead(ours.to);
      expect(read).toEqual({
        ...asRead(theirs.to),
        rcptTo: [ours.to],
        to: [ours.to],
        messageId: ours.messageId,
      });
      expect(read.mailFrom).toBe("no-reply@wallet.localhost");
      expect(read.subject).toBe(mail.subject);
      expect(read.html).toBe(mail.html);
    },
  );

  test("both parts say they are UTF-8 (a reader that assumes ASCII would garble the rest)", () => {
    const mail = mails["non-ASCII, long lines, a line that starts with a dot"];
    if (mail === undefined) throw new Error("no such mail");
    const { message } = composeMail({ ...mail, to: "a@example.com", messageId: "<m@notifications.fintech>" });
    expect(message.match(/^Content-Type: text\/(plain|html); charset=utf-8\r$/gm)).toEqual([
      "Content-Type: text/plain; charset=utf-8\r",
      "Content-Type: text/html; charset=utf-8\r",
    ]);
  });
});

describe("the SMTP sender's connections", () => {
  const receipt = (i: number): OutgoingMail => ({
    ...(mails.ascii as Omit<OutgoingMail, "to" | "messageId">),
    to: `user-${i}@example.com`,
    messageId: `<conn-${i}@notifications.fintech>`,
  });
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const sent = (own: SmtpInbox) => own.mails.flatMap((m) => m.rcptTo);
  // A server of the test's own (its connections are counted) and a sender to it, both closed afterwards.
  async function withOwnServer(
    run: (own: SmtpInbox, sender: MailSender) => Promise<void>,
    opts: { timeoutMs?: number } = {},
  ): Promise<void> {
    const own = await startSmtpInbox();
    const sender = smtpMailSender(own.url, opts);
    try {
      await run(own, sender);
    } finally {
      sender.close();
      await own.close();
    }
  }

  test("mails sent at once share at most 5 connections, which stay open for the mails after", () =>
    withOwnServer(async (own, sender) => {
      await Promise.all(range(0, 20).map((i) => sender.send(receipt(i))));
      expect(own.connections).toBe(5);
      await Promise.all(range(20, 40).map((i) => sender.send(receipt(i))));
      expect(own.connections).toBe(5);
      expect(new Set(sent(own))).toEqual(new Set(range(0, 40).map((i) => `user-${i}@example.com`)));
    }));

  test("a connection carries 100 mails, then the next goes over a new one", () =>
    withOwnServer(async (own, sender) => {
      for (const i of range(0, 101)) await sender.send(receipt(i));
      expect(own.mails).toHaveLength(101);
      expect(own.connections).toBe(2);
    }));

  test("a connection the server ended while idle is left; the next mail goes out at once on a new one", () =>
    withOwnServer(async (own, sender) => {
      await sender.send(receipt(1));
      own.dropConnections();
      // The end reaches the sender in a moment on loopback.
      await sleep(200);
      await sender.send(receipt(2));
      expect(sent(own)).toEqual(["user-1@example.com", "user-2@example.com"]);
      expect(own.connections).toBe(2);
    }));

  test("a connection idle past the timeout is closed quietly; the next mail goes out on a new one", () =>
    withOwnServer(
      async (own, sender) => {
        await sender.send(receipt(1));
        // The idle connection times out meanwhile: an error nobody waits for, which must not end the process.
        await sleep(500);
        await sender.send(receipt(2));
        expect(sent(own)).toEqual(["user-1@example.com", "user-2@example.com"]);
        expect(own.connections).toBe(2);
      },
      { timeoutMs: 200 },
    ));

  test("a mail the server refuses fails with the server's answer, and the next one goes out", () =>
    withOwnServer(async (own, sender) => {
      own.refuseNext(1);
      await expect(sender.send(receipt(1))).rejects.toMatchObject({ responseCode: 451 });
      await sender.send(receipt(2));
      expect(sent(own)).toEqual(["user-2@example.com"]);
    }));

  test("logs in as the URL's user to a server that asks for a login; a wrong password sends nothing", async () => {
    const own = await startSmtpInbox({ login: { user: "mailer", pass: "p@ss word" } });
    const sender = smtpMailSender(`smtp://mailer:p%40ss%20word@127.0.0.1:${own.port}`);
    const wrong = smtpMailSender(`smtp://mailer:guess@127.0.0.1:${own.port}`);
    try {
      await sender.send(receipt(1));
      await expect(wrong.send(receipt(2))).rejects.toMatchObject({ code: "EAUTH" });
      expect(own.logins).toEqual(["mailer"]);
      expect(sent(own)).toEqual(["user-1@example.com"]);
    } finally {
      sender.close();
      wrong.close();
      await own.close();
    }
  });

  test("a server that never greets fails the mail after the timeout instead of holding it", async () => {
    const silent = createServer(() => {});
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const sender = smtpMailSender(`smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      timeoutMs: 300,
    });
    try {
      await expect(sender.send(receipt(1))).rejects.toMatchObject({ code: "ETIMEDOUT" });
    } finally {
      sender.close();
      silent.close();
    }
  });
});
