import { derivedId, newEventId } from "@fintech/events";

/** A new time-ordered id (UUID v7): transactions sort by it within a millisecond and index inserts stay local. */
export const newId = (now?: number): string => newEventId(now);

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
