import { randomFillSync } from "node:crypto";

// Random bytes for ids (span ids, trace ids, event ids), taken from a pool that the CSPRNG refills 4 KiB at a
// time, as crypto.randomUUID does with its own: one call into it per few hundred ids. A call per id
// (randomBytes(8)) was 5% of the CPU of every service in one process under the purchase benchmark. Not for
// secrets (keys, tokens), which ask the CSPRNG directly.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(n: number): number {
  if (n > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at a time`);
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}

/** `n` random bytes as lowercase hex (2n characters). */
export function randomHex(n: number): string {
  const at = take(n);
  return pool.toString("hex", at, at + n);
}

/** `n` random bytes in a new buffer of the caller's own. */
export function randomBuffer(n: number): Buffer {
  const at = take(n);
  return Buffer.from(pool.subarray(at, at + n));
}
