// The mail server half of the mail benchmark: libs/testing's SMTP inbox in its own process, so that its CPU is
// not the sender's. Sends its port over IPC; answers "count" with the mails it has received.
import { startSmtpInbox } from "@fintech/testing/smtp-inbox";

const inbox = await startSmtpInbox();
process.on("message", (m) => {
  if (m === "count") process.send?.({ count: inbox.mails.length });
});
process.on("SIGTERM", () => {
  void inbox.close().then(() => process.exit(0));
});
process.send?.({ port: inbox.port });
