// An SMTP server of a test's own, in the test's process: what the notifications service sends lands here, parsed,
// so a test reads the mail a user would get (recipient, subject, text, HTML) instead of trusting the sender.
import type { AddressObject, ParsedMail } from "mailparser";
import { simpleParser } from "mailparser";
import type { SMTPServerDataStream, SMTPServerSession } from "smtp-server";
import { SMTPServer } from "smtp-server";
import type { WaitForOptions } from "./wait-for.js";
import { waitFor } from "./wait-for.js";

/** One mail as the inbox received it. */
export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO), lower case. */
  readonly rcptTo: readonly string[];
  /** The envelope's sender (MAIL FROM). */
  readonly mailFrom: string;
  /** The addresses in the To header. */
  readonly to: readonly string[];
  /** The From header as written. */
  readonly from: string;
  readonly subject: string;
  readonly messageId: string;
  /** The plain-text part ("" without one). */
  readonly text: string;
  /** The HTML part ("" without one). */
  readonly html: string;
  /** Every header, names in lower case, values as parsed. */
  readonly headers: ReadonlyMap<string, unknown>;
}

/** A running {@link startSmtpInbox}. */
export interface SmtpInbox {
  /** Where to send: `smtp://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Every mail received so far, in order of arrival. */
  readonly mails: readonly ReceivedMail[];
  /** The mails sent to `address` (an envelope recipient), in order of arrival. */
  mailsTo(address: string): ReceivedMail[];
  /** Waits until a received mail matches `match` and returns it; see {@link waitFor} for the options. */
  waitForMail(match: (mail: ReceivedMail) => boolean, opts?: WaitForOptions): Promise<ReceivedMail>;
  /**
   * Answers the next `count` messages with a temporary failure (451), as a mail server that is away does:
   * the sender must try again later.
   */
  refuseNext(count: number): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

const addresses = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (field === undefined ? [] : Array.isArray(field) ? field : [field]).flatMap((group) =>
    group.value.flatMap((a) => (a.address === undefined ? [] : [a.address.toLowerCase()])),
  );

function received(session: SMTPServerSession, parsed: ParsedMail): ReceivedMail {
  const from = session.envelope.mailFrom;
  return {
    rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
    mailFrom: from === false ? "" : from.address,
    to: addresses(parsed.to),
    from: parsed.from?.text ?? "",
    subject: parsed.subject ?? "",
    messageId: parsed.messageId ?? "",
    text: parsed.text ?? "",
    html: parsed.html === false ? "" : (parsed.html ?? ""),
    headers: new Map(parsed.headers),
  };
}

/**
 * Starts an SMTP server on a free loopback port (or `port`) that accepts any sender and recipient without
 * authentication or TLS, keeps every message it is sent, parsed, and can refuse some on purpose. Close it in the
 * test's teardown.
 */
export async function startSmtpInbox(opts: { port?: number } = {}): Promise<SmtpInbox> {
  const mails: ReceivedMail[] = [];
  let refusals = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    banner: "test inbox",
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        if (refusals > 0) {
          refusals--;
          callback(Object.assign(new Error("try again later"), { responseCode: 451 }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            mails.push(received(session, parsed));
            callback();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      const address = server.server.address();
      if (address === null || typeof address === "string") reject(new Error("an SMTP server without a port"));
      else resolve(address.port);
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    mails,
    mailsTo: (address) => mails.filter((m) => m.rcptTo.includes(address.toLowerCase())),
    waitForMail: (match, waitOpts) => waitFor(() => mails.find(match), waitOpts),
    refuseNext(count) {
      refusals = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
