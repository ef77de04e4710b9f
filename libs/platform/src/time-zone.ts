// Local calendar days and clock times in IANA time zones: a user's daily limit, report days and the hours a
// payment counts as off-hours are all read in the user's own zone. A zone that is empty or unknown to the
// runtime reads as UTC, so a bad zone in a projection never stops a payment; request validation refuses such
// zones first with isTimeZone.

/** Offsets of every zone in use are whole multiples of 15 minutes, so local midnights fall on these in UTC. */
const SLOT_MS = 15 * 60_000;
const SLOT_CACHE_MAX = 50_000;
/** Zone names remembered, known and unknown alike: a few hundred are real, the rest are spelling variants. */
const ZONES_MAX = 10_000;
// Area/Location names (and "UTC"), not offsets such as "+08:00" that Intl would also accept.
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

// Formatters are costly to build and cheap to use: one per zone, kept for the process's life (there are a few
// hundred zones). Unknown names are remembered too. Both stop growing at ZONES_MAX, so junk input (every case
// variant of a name is a valid zone) cannot grow them forever.
const formatters = new Map<string, Intl.DateTimeFormat>();
const unknownZones = new Set<string>();
const dayBySlot = new Map<string, string>();

function formatter(zone: string): Intl.DateTimeFormat | undefined {
  const known = formatters.get(zone);
  if (known !== undefined || zone === "" || unknownZones.has(zone)) return known;
  try {
    const f = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    if (formatters.size < ZONES_MAX) formatters.set(zone, f);
    return f;
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    if (unknownZones.size < ZONES_MAX) unknownZones.add(zone);
    return undefined;
  }
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function partsAt(ms: number, f: Intl.DateTimeFormat): LocalParts {
  const out: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of f.formatToParts(ms)) {
    if (part.type !== "literal") out[part.type] = Number(part.value);
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

function dayOf(p: LocalParts): string {
  return `${String(p.year).padStart(4, "0")}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
}

const msOf = (at: Date | number): number => (typeof at === "number" ? at : at.getTime());

/** True for a zone the runtime knows: an IANA name such as "Asia/Kuala_Lumpur" or "UTC" (or an offset, "+08:00"). */
export function isTimeZone(zone: string): boolean {
  return formatter(zone) !== undefined;
}

/**
 * The canonical IANA name of a zone given by name ("asia/kuala_lumpur" -> "Asia/Kuala_Lumpur"), undefined when
 * the runtime does not know it or it is an offset ("+08:00"): what a user's profile stores.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  if (!ZONE_NAME.test(zone)) return undefined;
  return formatter(zone)?.resolvedOptions().timeZone;
}

/** `zone` when the runtime knows it, else "UTC". */
export function zoneOrUtc(zone: string): string {
  return isTimeZone(zone) ? zone : "UTC";
}

/**
 * The calendar day (YYYY-MM-DD) holding instant `at` (a Date or Unix milliseconds) in `zone`. Answers are cached
 * per 15-minute slot when the whole slot lies in one local day, which every current zone guarantees; other
 * slots are computed exactly each time.
 */
export function localDay(at: Date | number, zone: string): string {
  const ms = msOf(at);
  const f = formatter(zone);
  if (f === undefined || zone === "UTC" || zone === "Etc/UTC") return new Date(ms).toISOString().slice(0, 10);
  const slot = Math.floor(ms / SLOT_MS);
  const key = `${zone}|${slot}`;
  const hit = dayBySlot.get(key);
  if (hit !== undefined) return hit;
  const first = dayOf(partsAt(slot * SLOT_MS, f));
  const last = dayOf(partsAt(slot * SLOT_MS + SLOT_MS - 1, f));
  if (first !== last) return dayOf(partsAt(ms, f));
  if (dayBySlot.size >= SLOT_CACHE_MAX) dayBySlot.clear();
  dayBySlot.set(key, first);
  return first;
}

/** Minutes after local midnight (0-1439) of instant `at` in `zone`, daylight saving included. */
export function localMinutes(at: Date | number, zone: string): number {
  const p = partsAt(msOf(at), formatter(zoneOrUtc(zone)) ?? utcFormatter());
  return p.hour * 60 + p.minute;
}

/**
 * The instant the local day `day` (YYYY-MM-DD) starts in `zone`. Where a transition skips midnight, the first
 * instant of the day that exists.
 */
export function startOfLocalDay(day: string, zone: string): Date {
  const z = zoneOrUtc(zone);
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // Two passes settle the offset on either side of a transition.
  let guess = wall - offsetMs(wall, z);
  guess = wall - offsetMs(guess, z);
  if (localDay(guess, z) !== day) {
    // Midnight did not exist: step forward until the local day begins.
    while (localDay(guess, z) < day) guess += SLOT_MS;
  }
  return new Date(guess);
}

/** The day after `day` (YYYY-MM-DD): a local day ends where startOfLocalDay(nextDay(day)) begins. */
export function nextDay(day: string): string {
  const [y = 1970, m = 1, d = 1] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

// How far `zone` is ahead of UTC at instant `ms`, in milliseconds.
function offsetMs(ms: number, zone: string): number {
  const p = partsAt(ms, formatter(zone) ?? utcFormatter());
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function utcFormatter(): Intl.DateTimeFormat {
  const f = formatter("UTC");
  if (f === undefined) throw new RangeError("the runtime does not know UTC");
  return f;
}
