// What the fraud benchmark's users look like, shared by its server (which seeds their features) and its load
// generator (which scores their payments).
import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ScoreRequestSchema } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";

/** Users with seeded features (BENCH_USERS, default 10,000). */
export const SEED_USERS = Number(process.env.BENCH_USERS ?? 10_000);

const ZONES = ["Asia/Kuala_Lumpur", "Asia/Singapore", "Asia/Jakarta", "Europe/London", "America/New_York"];

/** User number u: a stable id and one of a few time zones (most in Kuala Lumpur). */
export function benchUser(u: number): { id: string; timezone: string } {
  const zone = u % 10 < 6 ? ZONES[0] : ZONES[u % ZONES.length];
  return { id: `bench-user-${u}`, timezone: zone ?? "UTC" };
}

/**
 * The encoded Score request for call number i: a random seeded user, a purchase now, mostly small amounts
 * (1 in 25 between 300 and 5,000 MYR, 1 in 100 above 10,000), at one of a handful of merchants.
 */
export function scoreRequest(i: number): Buffer {
  const user = benchUser(Math.floor(Math.random() * SEED_USERS));
  const r = Math.random();
  const minor =
    r < 0.01 ? 1_000_000 + (i % 1_000_000) : r < 0.05 ? 30_000 + (i % 470_000) : 500 + (i % 29_500);
  const amount = `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
  return Buffer.from(
    toBinary(
      ScoreRequestSchema,
      create(ScoreRequestSchema, {
        transactionId: randomUUID(),
        userId: user.id,
        type: TransactionType.PURCHASE,
        amount: { currency: "MYR", amount },
        baseAmount: { currency: "MYR", amount },
        merchantName: `merchant ${i % 5}`,
        merchantCategory: "food_beverage",
        timezone: user.timezone,
        occurredAt: timestampFromDate(new Date()),
      }),
    ),
  );
}
