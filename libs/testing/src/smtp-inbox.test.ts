import { once } from "node:events";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { describe, expect, test } from "vitest";
import { startSmtpInbox } from "./smtp-inbox.js";

/** Speaks SMTP line by line, as a mail client does, and returns the server's final reply code of each step. */
async function sendRaw(port: number, from: string, to: string, message: string): Promise<number[]> {
  const socket = connect({ host: "127.0.0.1", port });
  await once(socket, "connect");
  const lines = createInterface({ input: socket })[Symbol.asyncIterator]();
  const reply = async (): Promise<number> => {
    for (;;) {
      const { value, done } = await lines.next();
      if (done) throw new Error("the server closed the connection");
      const line = String(value);
      // "250-..." continues a reply; "250 ..." ends it.
      if (line[3] !== "-") return Number(line.slice(0, 3));
    }
  };
  const codes = [await reply()];
  for (const command of ["EHLO test", `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, "DATA"]) {
    socket.write(`${command}\r\n`);
    codes.push(await reply());
  }
  socket.write(`${message.replace(/\n/g, "\r\n")}\r\n.\r\n`);
  codes.push(await reply());
  socket.write("QUIT\r\n");
  codes.push(await reply());
  socket.destroy();
  return codes;
}

const MESSAGE = [
  "From: Wallet <no-reply@example.com>",
  "To: Ana <ana@example.com>",
  "Subject: =?UTF-8?Q?Payment_receipt:_MYR_45.50_=E2=80=93_Kopi?=",
  "Message-ID: <evt-1.receipt@example.com>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/alternative; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "MYR 45.50 paid to Kopi Corner.",
  "--b",
  "Content-Type: text/html; charset=utf-8",
  "",
  "<p>MYR 45.50 paid to <b>Kopi Corner</b>.</p>",
  "--b--",
].join("\n");

describe("startSmtpInbox", () => {
  test("receives a mail and parses its recipients, subject and both parts", async () => {
    const inbox = await startSmtpInbox();
    try {
      const codes = await sendRaw(inbox.port, "no-reply@example.com", "Ana@Example.com", MESSAGE);
      expect(codes).toEqual([220, 250, 250, 250, 354, 250, 221]);
      const mail = await inbox.waitForMail((m) => m.messageId === "<evt-1.receipt@example.com>");
      expect(mail.rcptTo).toEqual(["ana@example.com"]);
      expect(mail.to).toEqual(["ana@example.com"]);
      expect(mail.subject).toBe("Payment receipt: MYR 45.50 – Kopi");
      expect(mail.text).toContain("MYR 45.50 paid to Kopi Corner.");
      expect(mail.html).toContain("<b>Kopi Corner</b>");
      expect(inbox.mailsTo("ana@example.com")).toHaveLength(1);
    } finally {
      await inbox.close();
    }
  });

  test("refuses the next messages with a temporary failure, then takes them again", async () => {
    const inbox = await startSmtpInbox();
    try {
      inbox.refuseNext(1);
      const refused = await sendRaw(inbox.port, "a@example.com", "b@example.com", MESSAGE);
      expect(refused[5]).toBe(451);
      expect(inbox.mails).toHaveLength(0);
      const taken = await sendRaw(inbox.port, "a@example.com", "b@example.com", MESSAGE);
      expect(taken[5]).toBe(250);
      expect(inbox.mails).toHaveLength(1);
    } finally {
      await inbox.close();
    }
  });

  test("counts the connections clients open, and ends the open ones on request", async () => {
    const inbox = await startSmtpInbox();
    try {
      await sendRaw(inbox.port, "a@example.com", "b@example.com", MESSAGE);
      const idle = connect({ host: "127.0.0.1", port: inbox.port });
      await once(idle, "data");
      expect(inbox.connections).toBe(2);
      const closed = once(idle, "close");
      inbox.dropConnections();
      await closed;
    } finally {
      await inbox.close();
    }
  });

  test("with a login, takes mail only from a client that logged in as that user", async () => {
    const inbox = await startSmtpInbox({ login: { user: "mailer", pass: "secret" } });
    try {
      const codes = await sendRaw(inbox.port, "a@example.com", "b@example.com", MESSAGE).catch(() => []);
      // MAIL FROM without a login: 530, authentication required.
      expect(codes[2]).toBe(530);
      expect(inbox.mails).toHaveLength(0);
      expect(inbox.logins).toEqual([]);
    } finally {
      await inbox.close();
    }
  });
});
