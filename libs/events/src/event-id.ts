import { randomBuffer } from "@fintech/platform";

/**
 * A new event id: a UUID version 7 (RFC 9562), i.e. 48 bits of Unix time in milliseconds then random bits, so ids
 * sort by creation time and inbox/outbox index inserts stay near the right edge of the b-tree.
 */
export function newEventId(now: number = Date.now()): string {
  const bytes = randomBuffer(16);
  let ms = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
