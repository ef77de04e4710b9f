import { describe, expect, it } from "vitest";
import { isTimeZone, localDay, nextDay, startOfLocalDay, zoneOrUtc } from "./local-time.js";

describe("local time", () => {
  it("reads the calendar day in the user's zone", () => {
    const at = new Date("2026-03-02T16:30:00Z");
    expect(localDay(at, "UTC")).toBe("2026-03-02");
    expect(localDay(at, "Asia/Kuala_Lumpur")).toBe("2026-03-03");
    expect(localDay(at, "America/Los_Angeles")).toBe("2026-03-02");
  });

  it("finds where a local day starts, across daylight-saving changes", () => {
    expect(startOfLocalDay("2026-03-03", "Asia/Kuala_Lumpur").toISOString()).toBe("2026-03-02T16:00:00.000Z");
    // New York: UTC-5 until 8 March 2026 02:00, UTC-4 after.
    expect(startOfLocalDay("2026-03-08", "America/New_York").toISOString()).toBe("2026-03-08T05:00:00.000Z");
    expect(startOfLocalDay("2026-03-09", "America/New_York").toISOString()).toBe("2026-03-09T04:00:00.000Z");
    expect(startOfLocalDay("2026-11-01", "America/New_York").toISOString()).toBe("2026-11-01T04:00:00.000Z");
  });

  it("treats an unknown zone as UTC rather than failing a payment", () => {
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(zoneOrUtc("Mars/Olympus")).toBe("UTC");
    expect(localDay(new Date("2026-03-02T23:00:00Z"), "Mars/Olympus")).toBe("2026-03-02");
  });

  it("steps to the next day across month and year ends", () => {
    expect(nextDay("2026-02-28")).toBe("2026-03-01");
    expect(nextDay("2026-12-31")).toBe("2027-01-01");
  });
});
