import { fromBinary } from "@bufbuild/protobuf";
import {
  UserDeletedSchema,
  UserRolesChangedSchema,
  UserStatusChangedSchema,
} from "@fintech/proto/fintech/identity/v1/events_pb.js";
import type { Logger } from "pino";
import type { UserAccessCache } from "./user-access.js";

/**
 * The part of a NATS connection (@nats-io/transport-node's NatsConnection) the feed uses; spelled out here so
 * this library needs no NATS client of its own.
 */
export interface UserChangeConnection {
  subscribe(
    subject: string,
    opts: { callback: (err: Error | null, msg: IdentityUserMessage & { subject: string }) => void },
  ): { unsubscribe(): void };
  status(): AsyncIterable<{ type: string }>;
}

// The user an event after which their credentials may authorize less is about; null for other events
// (registered: a new user has nothing to revoke).
function changedUser(type: string, data: Uint8Array): string | null {
  switch (type) {
    case "identity.user.status_changed":
      return fromBinary(UserStatusChangedSchema, data).userId;
    case "identity.user.deleted":
      return fromBinary(UserDeletedSchema, data).userId;
    case "identity.user.roles_changed":
      return fromBinary(UserRolesChangedSchema, data).userId;
    default:
      return null;
  }
}

/** An identity.user.* message as heard: its payload, and its headers (decoded when read). */
export interface IdentityUserMessage {
  data: Uint8Array;
  headers?: { get(name: string): string } | undefined;
}

/** What a follower of identity.user.* events does with them; see {@link followIdentityUsers}. */
export interface IdentityUserListener {
  /** One event, as published: its type (the subject without the namespace) and the message (read lazily). */
  heard(type: string, msg: IdentityUserMessage): void;
  /** Events may have been missed (the subscription failed, the connection was lost): anything kept may be stale. */
  missed(): void;
}

/**
 * Hears identity's identity.user.* events as they are published. A plain (core NATS) subscription: every
 * process hears every event, none is stored for it, and one missed while disconnected, or dropped because the
 * process fell behind, is reported as `missed`. Returns a stop function.
 * @param namespace the events namespace ("" in production), as given to the outbox relay.
 */
export function followIdentityUsers(
  nc: UserChangeConnection,
  listener: IdentityUserListener,
  opts: { namespace?: string; logger: Logger },
): () => void {
  const prefix = opts.namespace ? `${opts.namespace}.` : "";
  const sub = nc.subscribe(`${prefix}identity.user.>`, {
    callback: (err, msg) => {
      if (err !== null) {
        opts.logger.warn({ err }, "identity.user.* subscription failed; users are looked up again");
        listener.missed();
        return;
      }
      listener.heard(msg.subject.slice(prefix.length), msg);
    },
  });
  let stopped = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) return;
      // Events published while the connection was down were not heard.
      if (s.type === "reconnect") listener.missed();
    }
  })().catch((err: unknown) => {
    opts.logger.warn({ err }, "NATS status stream ended");
  });
  return () => {
    stopped = true;
    sub.unsubscribe();
  };
}

/**
 * Applies identity's identity.user.* events to `access` as they are published (followIdentityUsers), so a
 * suspension, deletion or role change takes effect at once instead of within the cache's lifetime; every user
 * is forgotten when events may have been missed (the cache's short lifetime bounds the gap). Returns a stop
 * function.
 * @param namespace the events namespace ("" in production), as given to the outbox relay.
 */
export function followUserChanges(
  nc: UserChangeConnection,
  access: UserAccessCache,
  opts: { namespace?: string; logger: Logger },
): () => void {
  return followIdentityUsers(
    nc,
    {
      heard(type, msg) {
        try {
          const userId = changedUser(type, msg.data);
          if (userId === null) return;
          if (userId !== "") {
            access.changed(userId);
            return;
          }
        } catch (err) {
          opts.logger.warn({ err, type }, "undecodable identity event; users are looked up again");
        }
        access.forgetAll();
      },
      missed: () => access.forgetAll(),
    },
    opts,
  );
}
