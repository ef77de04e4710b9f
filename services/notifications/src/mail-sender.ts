import { randomHex } from "@fintech/platform";
import * as base64 from "nodemailer/lib/base64";
import MimeNode from "nodemailer/lib/mime-node";
import * as qp from "nodemailer/lib/qp";
import SMTPConnection from "nodemailer/lib/smtp-connection";

/** One mail as it goes out. */
export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<...@...>`: the same on every attempt at the same mail. */
  messageId: string;
}

/** Hands mails to a mail server. */
export interface MailSender {
  /** Resolves once the server accepted the mail; rejects with the server's answer otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * True for a refusal that no retry will change: the server answered 5xx (no such mailbox, a message it will
 * never take). Connection failures, timeouts and 4xx answers are temporary.
 */
export function isPermanentMailFailure(err: unknown): boolean {
  const code =
    typeof err === "object" && err !== null && "responseCode" in err
      ? (err as { responseCode: unknown }).responseCode
      : 0;
  return typeof code === "number" && code >= 500 && code < 600;
}

/** A part's body in the transfer encoding nodemailer chose for it, wrapped as its encoders wrap it. */
function encodedBody(part: MimeNode, body: string): string {
  switch (part.getTransferEncoding()) {
    case "quoted-printable":
      return qp.wrap(qp.encode(body), 76);
    case "base64":
      return base64.wrap(base64.encode(body), 76);
    default:
      return body;
  }
}

/** A mail as it goes over SMTP: the message, and the envelope its From and To headers give. */
export interface ComposedMail {
  message: string;
  envelope: { from: string | false; to: string[] };
}

/**
 * The message as it goes over SMTP: a multipart/alternative of the text and the HTML, both UTF-8. nodemailer's
 * MimeNode writes every header (addresses, encoded words, folding, Date, MIME-Version, the boundary) and picks
 * each part's transfer encoding, and its encoders encode the bodies: what its own composer sends, built in one
 * synchronous pass instead of through a stream per part, which took about a third of a mail's CPU. The
 * boundary's random part comes from libs/platform's pool (MimeNode would ask the CSPRNG for it, a fifth of the
 * headers' cost); the envelope is read from the same headers, as nodemailer reads it.
 */
export function composeMail(mail: OutgoingMail): ComposedMail {
  const root = new MimeNode("multipart/alternative", { baseBoundary: randomHex(8) });
  root.setHeader({ from: mail.from, to: mail.to, subject: mail.subject, "message-id": mail.messageId });
  // Building the headers sets the boundary.
  const head = root.buildHeaders();
  const boundary = String(root.boundary);
  const alternatives: Array<[type: string, body: string]> = [
    ["text/plain; charset=utf-8", mail.text],
    ["text/html; charset=utf-8", mail.html],
  ];
  const parts = alternatives.map(([type, body]) => {
    // A part has no boundary of its own: the root's spares it generating one.
    const part = root.createChild(type, { baseBoundary: root.baseBoundary }).setContent(body);
    return `--${boundary}\r\n${part.buildHeaders()}\r\n\r\n${encodedBody(part, body)}\r\n`;
  });
  return { message: `${head}\r\n\r\n${parts.join("")}--${boundary}--\r\n`, envelope: root.getEnvelope() };
}

/** SMTP connections a sender has open at most, each carrying one mail at a time (nodemailer's pool's default). */
const MAX_CONNECTIONS = 5;
/** Mails one connection carries before it is closed and another opened, as nodemailer's pool does. */
const MAX_MESSAGES = 100;

/** One open connection, and how many mails it has carried. */
interface Line {
  conn: SMTPConnection;
  messages: number;
  alive: boolean;
}

/**
 * A sender over SMTP to `url`: `smtp://host:port` (STARTTLS when the server offers it), or `smtps://host:465`
 * (TLS from the start), with `user:password@` when the server asks for a login. Timeouts in ms (default 10 000)
 * bound connecting, the greeting and every exchange, so a server that stops answering fails the attempt rather
 * than holding it.
 *
 * Each mail goes over one of up to 5 connections kept open between mails (nodemailer's SMTPConnection, which
 * speaks the protocol, STARTTLS, logins and PIPELINING), handed the composed message whole: nodemailer's pooled
 * transport, given the same message raw, took more than twice the CPU a mail (`bench:mail`), most of it in the
 * mail object, MIME node and stream it builds around a raw message. A connection is closed after a failure, after
 * 100 mails, or when the server ends it; a mail that meets a connection the server ended a moment before fails
 * like any other and the outbox sends it again.
 */
export function smtpMailSender(url: string, opts: { timeoutMs?: number } = {}): MailSender {
  const parsed = new URL(url);
  const timeout = opts.timeoutMs ?? 10_000;
  const secure = parsed.protocol === "smtps:";
  const user = decodeURIComponent(parsed.username);
  const login: SMTPConnection.Credentials | undefined =
    user === "" ? undefined : { user, pass: decodeURIComponent(parsed.password) };
  const options: SMTPConnection.Options = {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? (secure ? 465 : 587) : Number(parsed.port),
    secure,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // Never echo the conversation (it carries the login) into the logs.
    logger: false,
    debug: false,
  };
  const idle: Line[] = [];
  // Sends waiting for one of the connections, in order of arrival.
  const waiting: Array<() => void> = [];
  let inUse = 0;
  let closed = false;

  const done = (resolve: () => void, reject: (err: Error) => void) => (err?: Error | null) =>
    err ? reject(err) : resolve();

  async function open(): Promise<Line> {
    const conn = new SMTPConnection(options);
    const line: Line = { conn, messages: 0, alive: true };
    let ended: ((err: Error) => void) | undefined;
    const gone = (err?: Error) => {
      line.alive = false;
      const at = idle.indexOf(line);
      if (at !== -1) idle.splice(at, 1);
      ended?.(
        err ?? Object.assign(new Error("the mail server closed the connection"), { code: "ECONNECTION" }),
      );
    };
    // A failure of a mail under way reaches its callback as well; an idle connection's only ends it.
    conn.on("error", gone);
    conn.on("end", () => gone());
    try {
      await new Promise<void>((resolve, reject) => {
        ended = reject;
        conn.connect(done(resolve, reject));
      });
      // As nodemailer's pool: a server that offers no login is not asked for one.
      if (login !== undefined && (conn as SMTPConnection & { allowsAuth?: boolean }).allowsAuth === true) {
        await new Promise<void>((resolve, reject) => {
          ended = reject;
          conn.login(login, done(resolve, reject));
        });
      }
    } catch (err) {
      conn.close();
      throw err;
    }
    ended = undefined;
    return line;
  }

  async function connection(): Promise<void> {
    if (inUse < MAX_CONNECTIONS) inUse++;
    // A finishing send hands its place over.
    else await new Promise<void>((resolve) => waiting.push(resolve));
  }

  function release(line: Line | undefined): void {
    if (line !== undefined) {
      if (!closed && line.alive && line.messages < MAX_MESSAGES) idle.push(line);
      else line.conn.close();
    }
    const next = waiting.shift();
    if (next === undefined) inUse--;
    else next();
  }

  return {
    async send(mail) {
      const { message, envelope } = composeMail(mail);
      await connection();
      let line: Line | undefined;
      try {
        if (closed) throw new Error("the mail sender is closed");
        line = idle.pop() ?? (await open());
        const sending = line;
        await new Promise<void>((resolve, reject) =>
          sending.conn.send(envelope, message, done(resolve, reject)),
        );
        line.messages++;
      } catch (err) {
        // Whatever state the conversation was left in, the next mail starts on a new connection.
        line?.conn.close();
        line = undefined;
        throw err;
      } finally {
        release(line);
      }
    },
    close() {
      closed = true;
      for (const line of idle.splice(0)) line.conn.close();
    },
  };
}
