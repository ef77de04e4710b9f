// Calendar days in a user's own time zone: the daily limit counts per local day, and list filters given as
// dates mean the user's days.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True when the runtime knows `timezone` as an IANA zone. */
export function isTimeZone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** `timezone` when the runtime knows it, else UTC: a bad zone in a projection must not stop payments. */
export const zoneOrUtc = (timezone: string): string => (isTimeZone(timezone) ? timezone : "UTC");

interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function partsAt(at: Date, timezone: string): Parts {
  const out: Record<string, number> = {};
  for (const p of formatter(timezone).formatToParts(at)) {
    if (p.type !== "literal") out[p.type] = Number(p.value);
  }
  return {
    year: out.year ?? 1970,
    month: out.month ?? 1,
    day: out.day ?? 1,
    hour: out.hour ?? 0,
    minute: out.minute ?? 0,
    second: out.second ?? 0,
  };
}

/** The calendar day (YYYY-MM-DD) that instant `at` falls on in `timezone`. */
export function localDay(at: Date, timezone: string): string {
  const p = partsAt(at, zoneOrUtc(timezone));
  return `${String(p.year).padStart(4, "0")}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

// How far `timezone` is ahead of UTC at instant `ms`, in milliseconds.
function offsetMs(ms: number, timezone: string): number {
  const p = partsAt(new Date(ms), timezone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant the local day `day` (YYYY-MM-DD) starts in `timezone`. Where a transition skips midnight, the
 * first instant of the day that exists.
 */
export function startOfLocalDay(day: string, timezone: string): Date {
  const zone = zoneOrUtc(timezone);
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // Two passes settle the offset on either side of a transition.
  let guess = wall - offsetMs(wall, zone);
  guess = wall - offsetMs(guess, zone);
  if (localDay(new Date(guess), zone) !== day) {
    // Midnight did not exist: step forward until the local day begins.
    while (localDay(new Date(guess), zone) < day) guess += 15 * 60_000;
  }
  return new Date(guess);
}

/** The day after `day` (YYYY-MM-DD). */
export function nextDay(day: string): string {
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}
