// Calendar days as the analytics projections count them: "YYYY-MM-DD" strings, compared as strings (ISO order is
// calendar order), with arithmetic through day numbers (days since 1970-01-01).

const DAY_MS = 86_400_000;
/** Offsets of every zone in use are whole multiples of 15 minutes, so local midnights fall on these in UTC. */
const SLOT_MS = 15 * 60_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
const unknownZones = new Set<string>();
const slotCache = new Map<string, string>();
const SLOT_CACHE_MAX = 50_000;

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(timeZone, f);
  }
  return f;
}

function formatDate(ms: number, timeZone: string): string {
  let y = "";
  let m = "";
  let d = "";
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type === "year") y = part.value;
    else if (part.type === "month") m = part.value;
    else if (part.type === "day") d = part.value;
  }
  return `${y.padStart(4, "0")}-${m}-${d}`;
}

/** True when `timeZone` is an IANA zone name this runtime knows (e.g. "Asia/Kuala_Lumpur", "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone === "" || unknownZones.has(timeZone)) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    if (unknownZones.size < 10_000) unknownZones.add(timeZone);
    return false;
  }
}

/**
 * The calendar day holding instant `ms` (Unix milliseconds) in `timeZone` ("" or an unknown zone: UTC).
 * Answers are cached per 15-minute slot when the whole slot lies in one local day, which every current zone
 * guarantees (offsets are multiples of 15 minutes); other slots are computed exactly each time.
 */
export function localDate(ms: number, timeZone: string): string {
  const zone = timeZone === "" || !isTimeZone(timeZone) ? "UTC" : timeZone;
  if (zone === "UTC" || zone === "Etc/UTC") return utcDate(ms);
  const slot = Math.floor(ms / SLOT_MS);
  const key = `${zone}|${slot}`;
  const hit = slotCache.get(key);
  if (hit !== undefined) return hit;
  const first = formatDate(slot * SLOT_MS, zone);
  const last = formatDate(slot * SLOT_MS + SLOT_MS - 1, zone);
  if (first !== last) return formatDate(ms, zone);
  if (slotCache.size >= SLOT_CACHE_MAX) slotCache.clear();
  slotCache.set(key, first);
  return first;
}

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
