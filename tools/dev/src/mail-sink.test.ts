import { freePorts } from "@fintech/testing";
import { describe, expect, test } from "vitest";
import { startMailSink } from "./mail-sink.js";

describe("startMailSink", () => {
  test("serves SMTP and the web inbox on the ports given, until stopped", async () => {
    const [smtp = 0, web = 0] = await freePorts(2);
    const env = { ...process.env, MAILDEV_SMTP_PORT: String(smtp), MAILDEV_WEB_PORT: String(web) };
    let exits = 0;
    const sink = await startMailSink(env, "127.0.0.1", "127.0.0.1", () => {
      exits++;
    });
    try {
      expect(sink.smtpUrl).toBe(`smtp://127.0.0.1:${smtp}`);
      expect(sink.inboxUrl).toBe(`http://127.0.0.1:${web}`);
      const health = await fetch(`${sink.inboxUrl}/api/healthz`);
      expect(health.ok).toBe(true);
    } finally {
      await sink.stop();
    }
    expect(exits).toBe(1);
    await expect(fetch(`http://127.0.0.1:${web}/api/healthz`)).rejects.toThrow();
  }, 30_000);
});
