// Sends one batch of due mails and hangs in the middle of it: every mail of the batch but the one to VICTIM is
// handed to the mail server, and that one's send never returns. The parent test kills this process with
// SIGKILL there: the state a sender that dies mid-batch leaves behind.
import { createPool } from "@fintech/db";
import { pino } from "pino";
import { createMailOutbox } from "../mail-outbox.js";
import { smtpMailSender } from "../mail-sender.js";
import { TEST_MAIL_SETTINGS } from "./mail-settings.js";

const { DATABASE_URL, SCHEMA, SMTP_URL, VICTIM, NOW } = process.env;
if (!DATABASE_URL || !SCHEMA || !SMTP_URL || !VICTIM || !NOW) {
  throw new Error("DATABASE_URL, SCHEMA, SMTP_URL, VICTIM and NOW are required");
}

const smtp = smtpMailSender(SMTP_URL);
const outbox = createMailOutbox({
  pool: createPool({ url: DATABASE_URL, schema: SCHEMA, max: 2 }),
  // The parent's test clock, which the mails were queued by.
  clock: { now: () => new Date(NOW) },
  sender: {
    async send(mail) {
      if (mail.to === VICTIM) {
        process.stdout.write("hanging\n");
        return new Promise(() => {});
      }
      await smtp.send(mail);
      process.stdout.write("sent\n");
    },
    close: () => smtp.close(),
  },
  lookupRecipient: async () => undefined,
  logger: pino({ level: "silent" }),
  settings: TEST_MAIL_SETTINGS,
});
await outbox.drain();
