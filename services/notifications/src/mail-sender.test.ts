import type { SmtpInbox } from "@fintech/testing/smtp-inbox";
import { startSmtpInbox } from "@fintech/testing/smtp-inbox";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { OutgoingMail } from "./mail-sender.js";
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
    const message = composeMail({ ...mail, to: "a@example.com", messageId: "<m@notifications.fintech>" });
    expect(message.match(/^Content-Type: text\/(plain|html); charset=utf-8\r$/gm)).toEqual([
      "Content-Type: text/plain; charset=utf-8\r",
      "Content-Type: text/html; charset=utf-8\r",
    ]);
  });
});
