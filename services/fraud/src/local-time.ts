// Formatters are costly to build and cheap to use: one per time zone, kept for the process's life (there
// are a few hundred IANA zones, so the map stays small).
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(timeZone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-GB", {
        timeZone,
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      f = null;
    }
    // Unknown names are cached too, but only a bounded number, so junk input cannot grow the map forever.
    if (f !== null || formatters.size < 10_000) formatters.set(timeZone, f);
  }
  return f;
}

/** True for an IANA time zone name the runtime knows, e.g. "Asia/Kuala_Lumpur" (or "UTC"). */
export function isTimeZone(timeZone: string): boolean {
  return timeZone !== "" && formatter(timeZone) !== null;
}

/**
 * Minutes after local midnight (0-1439) of `at` in `timeZone`, daylight saving included.
 * @throws RangeError for an unknown time zone (validation refuses those first).
 */
export function localMinutes(at: Date, timeZone: string): number {
  const f = formatter(timeZone);
  if (f === null) throw new RangeError(`unknown time zone ${timeZone}`);
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(at)) {
    if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
  }
  return hour * 60 + minute;
}

/** "HH:MM" of minutes after midnight. */
export function formatMinutes(minutes: number): string {
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${hh}:${mm}`;
}
