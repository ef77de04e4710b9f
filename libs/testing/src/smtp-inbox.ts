// An SMTP server of a test's own, in the test's process: what the notifications service sends lands here, parsed,
// so a test reads the mail a user would get (recipient, subject, text, HTML) instead of trusting the sender.
import type { Socket } from "node:net";
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
  /** Connections clients have opened so far. */
  readonly connections: number;
  /** The users that logged in, one entry per login (with `login` set). */
  readonly logins: readonly string[];
  /** Ends every open connection, as a server does with connections idle too long. */
  dropConnections(): void;
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
 * Starts an SMTP server on a free loopback port (or `port`) that accepts any sender and recipient without TLS,
 * keeps every message it is sent, parsed, and can refuse some on purpose. Without `login` it asks for no
 * authentication; with it, a client must log in as that user (over plain text) before it may send. Close it in
 * the test's teardown.
 */
export async function startSmtpInbox(
  opts: { port?: number; login?: { user: string; pass: string } } = {},
): Promise<SmtpInbox> {
  const mails: ReceivedMail[] = [];
  const logins: string[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let refusals = 0;
  const { login } = opts;
  const server = new SMTPServer({
    authOptional: login === undefined,
    disabledCommands: login === undefined ? ["STARTTLS", "AUTH"] : ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (login !== undefined && auth.username === login.user && auth.password === login.pass) {
        logins.push(auth.username ?? "");
        callback(null, { user: auth.username });
      } else callback(new Error("invalid username or password"));
    },
    onConnect(_session, callback) {
      connections++;
      callback();
    },
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
  server.server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
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
    get connections() {
      return connections;
    },
    logins,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
