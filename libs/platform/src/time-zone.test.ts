import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalTimeZone,
  isTimeZone,
  localDay,
  localMinutes,
  nextDay,
  startOfLocalDay,
  zoneOrUtc,
} from "./time-zone.js";

const ZONES = [
  "UTC",
  "Asia/Kuala_Lumpur",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Pacific/Chatham",
  "America/St_Johns",
  "Pacific/Kiritimati",
  "Europe/Dublin",
];

describe("local days", () => {
  it("reads the calendar day in the user's zone", () => {
    const at = new Date("2026-03-02T16:30:00Z");
    expect(localDay(at, "UTC")).toBe("2026-03-02");
    expect(localDay(at, "Asia/Kuala_Lumpur")).toBe("2026-03-03");
    expect(localDay(at, "America/Los_Angeles")).toBe("2026-03-02");
  });

  it("equals Intl's day for any instant and zone, across DST and day boundaries", () => {
    const intl = (ms: number, zone: string) =>
      new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(ms);
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...ZONES),
        (ms, zone) => {
          expect(localDay(ms, zone)).toBe(intl(ms, zone));
          // Right around each side of a local midnight too.
          const minute = 60_000;
          expect(localDay(ms - (ms % (15 * minute)), zone)).toBe(intl(ms - (ms % (15 * minute)), zone));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("finds where a local day starts, across daylight-saving changes", () => {
    expect(startOfLocalDay("2026-03-03", "Asia/Kuala_Lumpur").toISOString()).toBe("2026-03-02T16:00:00.000Z");
    // New York: UTC-5 until 8 March 2026 02:00, UTC-4 after.
    expect(startOfLocalDay("2026-03-08", "America/New_York").toISOString()).toBe("2026-03-08T05:00:00.000Z");
    expect(startOfLocalDay("2026-03-09", "America/New_York").toISOString()).toBe("2026-03-09T04:00:00.000Z");
    expect(startOfLocalDay("2026-11-01", "America/New_York").toISOString()).toBe("2026-11-01T04:00:00.000Z");
  });

  it("treats an unknown or empty zone as UTC rather than failing a payment", () => {
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("")).toBe(false);
    expect(zoneOrUtc("Mars/Olympus")).toBe("UTC");
    expect(localDay(new Date("2026-03-02T23:00:00Z"), "Mars/Olympus")).toBe("2026-03-02");
    expect(localDay(Date.UTC(2026, 2, 1, 23), "")).toBe("2026-03-01");
    expect(localMinutes(new Date("2026-03-02T23:05:00Z"), "Not/AZone")).toBe(23 * 60 + 5);
  });

  it("steps to the next day across month and year ends", () => {
    expect(nextDay("2026-02-28")).toBe("2026-03-01");
    expect(nextDay("2026-12-31")).toBe("2027-01-01");
  });
});

describe("local clock times", () => {
  it("reads minutes after local midnight, daylight saving included", () => {
    expect(localMinutes(new Date("2026-03-02T16:30:00Z"), "Asia/Kuala_Lumpur")).toBe(30);
    expect(localMinutes(new Date("2026-03-02T15:59:00Z"), "Asia/Kuala_Lumpur")).toBe(23 * 60 + 59);
    // New York at 12:00 UTC: 07:00 in winter (UTC-5), 08:00 in summer (UTC-4).
    expect(localMinutes(new Date("2026-01-15T12:00:00Z"), "America/New_York")).toBe(7 * 60);
    expect(localMinutes(new Date("2026-07-15T12:00:00Z"), "America/New_York")).toBe(8 * 60);
    expect(localMinutes(new Date("2026-03-02T00:00:00Z"), "Asia/Kathmandu")).toBe(5 * 60 + 45);
  });
});

describe("zone names", () => {
  it("knows IANA names in any case and gives their canonical spelling", () => {
    expect(canonicalTimeZone("asia/kuala_lumpur")).toBe("Asia/Kuala_Lumpur");
    expect(canonicalTimeZone("utc")).toBe("UTC");
    expect(canonicalTimeZone("Mars/Olympus")).toBeUndefined();
    expect(canonicalTimeZone("")).toBeUndefined();
  });

  it("keeps offsets out of profiles while still reading them", () => {
    expect(canonicalTimeZone("+08:00")).toBeUndefined();
    expect(isTimeZone("+08:00")).toBe(true);
    expect(localDay(new Date("2026-03-02T16:30:00Z"), "+08:00")).toBe("2026-03-03");
  });
});
