import { createHash } from "node:crypto";
import { newEventId } from "@fintech/events";

/** A new time-ordered id (UUID v7): transactions sort by it within a millisecond and index inserts stay local. */
export const newId = (now?: number): string => newEventId(now);

/**
 * A UUID (version 8, RFC 9562's custom layout) derived from `name` by SHA-256: the same name always gives the
 * same id. The ledger transfers of a transaction get ids named after the transaction, its leg and its phase,
 * so every retry of the same step sends the same ids and the ledger applies each transfer once.
 */
export function derivedId(name: string): string {
  const bytes = createHash("sha256").update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** What a ledger transfer of a transaction does. */
export type TransferPhase = "post" | "hold" | "settle" | "void" | "reverse";

/** The ledger transfer id of leg `leg` of transaction `transactionId` in `phase`. */
export const transferId = (transactionId: string, leg: number, phase: TransferPhase): string =>
  derivedId(`wallet-transfer:${transactionId}:${leg}:${phase}`);

/**
 * A wallet's id, which is also its ledger account's id: one per user and currency, so the consumer of
 * identity.user.registered and a request that finds no wallet yet open the same one.
 */
export const walletId = (userId: string, currency: string): string =>
  derivedId(`wallet:${userId}:${currency}`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID of any version, any case. */
export const isUuid = (value: string): boolean => UUID.test(value);
