import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { UserStatusChangedSchema } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import type { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { serviceTest, waitFor } from "@fintech/testing";
import { expect } from "vitest";
import { createBook } from "./book.js";
import { migrationsDir } from "./server.js";
import type { Users } from "./users.js";
import { createUsers } from "./users.js";

// A wallet replica reuses a user it read from the projection (a minute here), yet every replica hears identity's
// user events as they are published: a change reaches its memory then, not when the entry expires, and while the
// projection (kept by one replica's consumer, here this file's SQL) has yet to apply a change it heard of, it
// reads the user again on every request instead of reusing the old state.

interface Replica {
  users: Users;
  /** Sets the projection's row as the consumer would, the change having happened at `at` (ms). */
  project(userId: string, status: string, at: number, timezone?: string): Promise<void>;
  /** Publishes identity.user.status_changed as identity's relay would. */
  publish(userId: string, status: UserStatus, at: number): void;
}

const test = serviceTest("replica", async (kit): Promise<Replica> => {
  await kit.prepare({ migrations: [migrationsDir], streams: [] });
  const { pool, nc } = kit.deps;
  const users = createUsers({
    pool,
    // Every user of this file is in the projection: neither identity nor the ledger is ever asked.
    identity: {} as Client<typeof IdentityService>,
    book: createBook({} as Client<typeof LedgerService>),
    clock: kit.clock,
    cacheTtlMs: 60_000,
  });
  const stop = users.follow({ nc, namespace: kit.env.EVENTS_NAMESPACE ?? "", logger: kit.logger });
  kit.defer(stop);
  return {
    users,
    async project(userId, status, at, timezone = "UTC") {
      await pool.query(
        `INSERT INTO users (id, status, timezone, default_currency, version) VALUES ($1, $2, $4, 'MYR', $3)
         ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, timezone = EXCLUDED.timezone,
           version = EXCLUDED.version`,
        [userId, status, new Date(at), timezone],
      );
    },
    publish(userId, status, at) {
      const event = create(UserStatusChangedSchema, { userId, status, occurredAt: timestampFromMs(at) });
      nc.publish(
        `${kit.env.EVENTS_NAMESPACE}.identity.user.status_changed`,
        toBinary(UserStatusChangedSchema, event),
      );
    },
  };
});

const T0 = Date.parse("2026-03-01T08:00:00Z");

test("a change reaches the replica's memory when its event is published, not when the entry expires", async ({
  replica,
}) => {
  await replica.project("ana", "active", T0);
  expect((await replica.users.get("ana")).status).toBe("active");
  // Another replica's consumer applies the suspension: without its event, this replica keeps what it read.
  await replica.project("ana", "suspended", T0 + 1000);
  expect((await replica.users.get("ana")).status).toBe("active");
  replica.publish("ana", UserStatus.SUSPENDED, T0 + 1000);
  await waitFor(async () => (await replica.users.get("ana")).status === "suspended" || undefined, {
    timeoutMs: 5000,
  });
});

test("a change heard before the projection has it is not reused from the old state", async ({ replica }) => {
  await replica.project("ben", "active", T0);
  expect((await replica.users.get("ben")).timezone).toBe("UTC");
  replica.publish("ben", UserStatus.SUSPENDED, T0 + 1000);
  // The projection has yet to apply the suspension; each read of it is what a request is answered with.
  await replica.project("ben", "active", T0, "Asia/Tokyo");
  await waitFor(async () => (await replica.users.get("ben")).timezone === "Asia/Tokyo" || undefined, {
    timeoutMs: 5000,
  });
  // The event was heard: that read was not kept, nor is the next.
  await replica.project("ben", "active", T0, "Europe/London");
  expect((await replica.users.get("ben")).timezone).toBe("Europe/London");
  await replica.project("ben", "active", T0, "Asia/Kathmandu");
  expect((await replica.users.get("ben")).timezone).toBe("Asia/Kathmandu");
  await replica.project("ben", "suspended", T0 + 1000);
  expect((await replica.users.get("ben")).status).toBe("suspended");
  // Once the projection has it, the user is reused again: a later write without an event is not seen.
  await replica.project("ben", "active", T0 + 2000);
  expect((await replica.users.get("ben")).status).toBe("suspended");
});
