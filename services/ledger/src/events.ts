import { create, toBinary } from "@bufbuild/protobuf";
import { newEventId } from "@fintech/events";
import {
  TransferExpiredSchema,
  TransferPendingSchema,
  TransferPostedSchema,
  TransferVoidedSchema,
} from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import { transferMessage } from "./messages.js";
import type { Transfer } from "./model.js";
import { viewOf } from "./model.js";
import type { OutboxRow } from "./store.js";

/** What the ledger publishes (un-namespaced NATS subjects, also the CloudEvents type). */
export const LEDGER_EVENTS = {
  posted: "ledger.transfer.posted",
  pending: "ledger.transfer.pending",
  voided: "ledger.transfer.voided",
  expired: "ledger.transfer.expired",
  integrityViolated: "ledger.integrity.violated",
} as const;

/**
 * The outbox row announcing a newly created transfer: posted (single-phase and post_pending), pending, voided,
 * or expired (the ledger's void of a timed-out pending transfer). The transfer is shown as it was created.
 */
export function transferEvent(t: Transfer): OutboxRow {
  const transfer = transferMessage(viewOf(t, undefined));
  const id = newEventId(t.createdAt.getTime());
  switch (t.kind) {
    case "single":
    case "post":
      return {
        id,
        type: LEDGER_EVENTS.posted,
        payload: toBinary(TransferPostedSchema, create(TransferPostedSchema, { transfer })),
      };
    case "pending":
      return {
        id,
        type: LEDGER_EVENTS.pending,
        payload: toBinary(TransferPendingSchema, create(TransferPendingSchema, { transfer })),
      };
    case "void":
      return t.expired
        ? {
            id,
            type: LEDGER_EVENTS.expired,
            payload: toBinary(TransferExpiredSchema, create(TransferExpiredSchema, { transfer })),
          }
        : {
            id,
            type: LEDGER_EVENTS.voided,
            payload: toBinary(TransferVoidedSchema, create(TransferVoidedSchema, { transfer })),
          };
  }
}
