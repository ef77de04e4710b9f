import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { addDays, addMonths, dayNumber, isDate, localDate, monthEnd, weekStart } from "./dates.js";

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

describe("days", () => {
  test("a local day equals Intl's for any instant and zone, across DST and day boundaries", () => {
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
          expect(localDate(ms, zone)).toBe(intl(ms, zone));
          // Right around each side of a local midnight too.
          const minute = 60_000;
          expect(localDate(ms - (ms % (15 * minute)), zone)).toBe(intl(ms - (ms % (15 * minute)), zone));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("an unknown or empty zone counts as UTC", () => {
    expect(localDate(Date.UTC(2026, 2, 1, 23), "Not/AZone")).toBe("2026-03-01");
    expect(localDate(Date.UTC(2026, 2, 1, 23), "")).toBe("2026-03-01");
  });

  test("checks and moves calendar days", () => {
    expect([isDate("2024-02-29"), isDate("2026-02-29"), isDate("2026-13-01"), isDate("2026-1-01")]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(dayNumber("1970-01-02")).toBe(1);
    expect(weekStart("2026-03-01")).toBe("2026-02-23");
    expect(weekStart("2026-03-02")).toBe("2026-03-02");
    expect(addMonths("2026-12-15", 1)).toBe("2027-01-01");
    expect(addMonths("2026-01-31", -11)).toBe("2025-02-01");
    expect(monthEnd("2024-02-10")).toBe("2024-02-29");
  });
});
