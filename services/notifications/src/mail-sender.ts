import nodemailer from "nodemailer";

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
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
    },
    close() {
      transport.close();
    },
  };
}
