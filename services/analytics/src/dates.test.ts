import { describe, expect, test } from "vitest";
import { addDays, addMonths, dayNumber, isDate, monthEnd, weekStart } from "./dates.js";

describe("days", () => {
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
