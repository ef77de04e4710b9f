// Benchmark: what sending a receipt costs the notifications service. A purchase's receipt (rendered as the
// service renders it) goes BENCH_MAILS times (2,000, after 300 to warm up) with BENCH_IN_FLIGHT (8) in flight to
// an SMTP server in a process of its own (libs/testing's inbox), once through the service's sender (each mail
// built in one pass, handed whole to one of the sender's own SMTP connections) and once through nodemailer's own
// composer on its pooled transport, alternating, BENCH_ROUNDS (3) times each. Printed per round: mails/s and this
// process's CPU per mail; then the medians, their ratio and how many of the mails reached the server. Figures
// are printed, never asserted.
//
//   ./dev npm run bench:mail -w @fintech/bench
import { fork } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OutgoingMail } from "@fintech/notifications";
import { renderMail, smtpMailSender } from "@fintech/notifications";
import nodemailer from "nodemailer";

const mails = Number(process.env.BENCH_MAILS ?? 2000);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 8);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = 300;

const sink = fork(join(dirname(fileURLToPath(import.meta.url)), "mail-sink.ts"), [], {
  execArgv: ["--conditions=source", "--import", "tsx"],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const [{ port }] = (await once(sink, "message")) as [{ port: number }];
const received = async () => {
  sink.send("count");
  const [m] = (await once(sink, "message")) as [{ count: number }];
  return m.count;
};

const receipt = renderMail({
  template: "transaction",
  change: "completed",
  transactionId: "0b7f3f2a-6a4e-4d6b-9a55-2c3f0e3c1a11",
  type: "purchase",
  direction: "",
  amount: "12.50",
  currency: "MYR",
  merchantName: "Kopi Corner",
  provider: "",
  occurredAt: "2026-12-06 10:00 UTC",
});

type Send = (mail: OutgoingMail) => Promise<void>;
const url = `smtp://127.0.0.1:${port}`;
const senders: Record<string, () => { send: Send; close(): void }> = {
  "the service's sender": () => smtpMailSender(url),
  "nodemailer's composer": () => {
    const transport = nodemailer.createTransport({ pool: true, host: "127.0.0.1", port, secure: false });
    return {
      send: async (mail) => {
        await transport.sendMail(mail);
      },
      close: () => transport.close(),
    };
  },
};

let sent = 0;
async function drive(send: Send, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const i = sent++;
        next++;
        await send({
          from: "Wallet <no-reply@wallet.localhost>",
          to: `user-${i}@example.com`,
          subject: receipt.subject,
          text: receipt.text,
          html: receipt.html,
          messageId: `<bench-${i}.transaction@notifications.fintech>`,
        });
      }
    }),
  );
}

const results = new Map<string, Array<{ rate: number; cpuUs: number }>>();
for (let round = 1; round <= rounds; round++) {
  for (const [name, make] of Object.entries(senders)) {
    const sender = make();
    await drive(sender.send, WARMUP);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await drive(sender.send, mails);
    const used = process.cpuUsage(cpu);
    const rate = (mails * 1000) / (performance.now() - started);
    const cpuUs = (used.user + used.system) / mails;
    sender.close();
    results.set(name, [...(results.get(name) ?? []), { rate, cpuUs }]);
    console.log(
      `round ${round}  ${name.padEnd(22)} mails/s ${rate.toFixed(0).padStart(5)}   CPU ${cpuUs.toFixed(0).padStart(5)} us a mail`,
    );
  }
}
const arrived = await received();
sink.kill("SIGTERM");

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const summary = [...results].map(([name, r]) => ({
  name,
  rate: median(r.map((x) => x.rate)),
  cpuUs: median(r.map((x) => x.cpuUs)),
}));
console.log(`\nreceipts to an SMTP server, ${inFlight} in flight, ${mails} a round (medians of ${rounds}):`);
for (const s of summary) {
  console.log(
    `  ${s.name.padEnd(22)} mails/s ${s.rate.toFixed(0).padStart(5)}   CPU ${s.cpuUs.toFixed(0)} us a mail`,
  );
}
const [ours, theirs] = summary;
if (ours !== undefined && theirs !== undefined) {
  console.log(`  CPU a mail, ${ours.name} / ${theirs.name}: ${(ours.cpuUs / theirs.cpuUs).toFixed(2)}`);
}
console.log(`  mails the server received: ${arrived} of ${sent}`);
