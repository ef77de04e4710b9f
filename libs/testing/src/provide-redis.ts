import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

/** A Redis client plus a key prefix owned by one test file. */
export interface RedisFixture {
  url: string;
  /** `t<8 hex>:`; code under test puts it in front of every key. Keys with it are deleted after the file. */
  prefix: string;
  /** Plain client (no ioredis `keyPrefix`); quit by the fixture, do not close it. */
  client: Redis;
}

/** Keys fetched per SCAN round trip during cleanup. */
const SCAN_COUNT = 500;

/**
 * Connects, hands the client and a fresh prefix to `use`, then deletes every key with that prefix (SCAN + UNLINK)
 * and quits even when `use` throws. The vitest `redis` fixture is this function.
 */
export async function provideRedis(
  redisUrl: string,
  use: (fixture: RedisFixture) => Promise<void>,
): Promise<void> {
  const prefix = `t${randomBytes(4).toString("hex")}:`;
  const client = new Redis(redisUrl, { lazyConnect: true });
  await client.connect();
  try {
    await use({ url: redisUrl, prefix, client });
  } finally {
    // If the test closed the shared client anyway, clean up over a new one rather than leak keys.
    const cleaner = client.status === "end" ? new Redis(redisUrl) : client;
    try {
      await deleteKeys(cleaner, prefix);
    } finally {
      await cleaner.quit();
    }
  }
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK); the prefix must hold no glob characters. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", SCAN_COUNT);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
}
