import nodemailer from "nodemailer";
import * as base64 from "nodemailer/lib/base64";
import MimeNode from "nodemailer/lib/mime-node";
import * as qp from "nodemailer/lib/qp";

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

/**
 * The message as it goes over SMTP: a multipart/alternative of the text and the HTML, both UTF-8. nodemailer's
 * MimeNode writes every header (addresses, encoded words, folding, Date, MIME-Version, the boundary) and picks
 * each part's transfer encoding, and its encoders encode the bodies: what its own composer sends, built in one
 * synchronous pass instead of through a stream per part, which took about a third of a mail's CPU.
 */
export function composeMail(mail: OutgoingMail): string {
  const root = new MimeNode("multipart/alternative");
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
  return `${head}\r\n\r\n${parts.join("")}--${boundary}--\r\n`;
}

/**
 * A sender over SMTP (nodemailer) to `url`: `smtp://host:port` (STARTTLS when the server offers it), or
 * `smtps://host:465` (TLS from the start), with `user:password@` when the server asks for a login. Connections
 * are pooled. Timeouts in ms (default 10 000) bound connecting, the greeting and every exchange, so a server
 * that stops answering fails the attempt rather than holding it.
 */
export function smtpMailSender(url: string, opts: { timeoutMs?: number } = {}): MailSender {
  const parsed = new URL(url);
  const timeout = opts.timeoutMs ?? 10_000;
  const secure = parsed.protocol === "smtps:";
  const user = decodeURIComponent(parsed.username);
  const transport = nodemailer.createTransport({
    pool: true,
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? (secure ? 465 : 587) : Number(parsed.port),
    secure,
    ...(user === "" ? {} : { auth: { user, pass: decodeURIComponent(parsed.password) } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // Never echo the conversation (it carries the login) into the logs.
    logger: false,
    debug: false,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        raw: composeMail(mail),
        envelope: { from: mail.from, to: [mail.to] },
        // The raw message carries it; given here too, nodemailer does not make one up for its report.
        messageId: mail.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}
