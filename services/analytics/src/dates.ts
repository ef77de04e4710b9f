// Calendar days as the analytics projections count them: "YYYY-MM-DD" strings, compared as strings (ISO order is
// calendar order), with arithmetic through day numbers (days since 1970-01-01). Which day an instant falls on in
// a user's zone is libs/platform's localDay.

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC calendar day holding instant `ms`. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** True for a real calendar day written YYYY-MM-DD (years 0001-9999). */
export function isDate(value: string): boolean {
  const m = DATE.exec(value);
  if (m === null) return false;
  const [, y, mo, d] = m.map(Number) as [number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of a valid YYYY-MM-DD day. */
export function dayNumber(day: string): number {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  const date = new Date(0);
  date.setUTCFullYear(y, m - 1, d);
  return Math.round(date.getTime() / DAY_MS);
}

/** The YYYY-MM-DD day of a day number. */
export function dayFromNumber(n: number): string {
  return utcDate(n * DAY_MS);
}

/** `day` moved by `n` days. */
export function addDays(day: string, n: number): string {
  return dayFromNumber(dayNumber(day) + n);
}

/** The Monday starting the ISO week (Monday to Sunday) that holds `day`. */
export function weekStart(day: string): string {
  const n = dayNumber(day);
  // 1970-01-01 was a Thursday: day number 0 is weekday 3 counting Monday as 0.
  const weekday = (((n + 3) % 7) + 7) % 7;
  return dayFromNumber(n - weekday);
}

/** The first day of the month holding `day`. */
export function monthStart(day: string): string {
  return `${day.slice(0, 8)}01`;
}

/** The last day of the month holding `day`. */
export function monthEnd(day: string): string {
  const [y, m] = day.split("-").map(Number) as [number, number];
  return `${day.slice(0, 8)}${String(daysInMonth(y, m)).padStart(2, "0")}`;
}

/** The first day of the month `n` months after the one holding `day`. */
export function addMonths(day: string, n: number): string {
  const [y, m] = day.split("-").map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-01`;
}
