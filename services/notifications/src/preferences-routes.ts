import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { defineAccess, requireUser } from "@fintech/auth";
import type { Clock } from "@fintech/platform";
import type { NotificationPreferences } from "@fintech/proto/fintech/notifications/v1/preferences_pb.js";
import {
  NotificationPreferencesSchema,
  PreferencesService,
} from "@fintech/proto/fintech/notifications/v1/preferences_pb.js";
import type pg from "pg";
import type { MailPreferences } from "./mail-model.js";
import { mailStore } from "./mail-store.js";

/** A user's own switches only: a service has no "me", an admin changes no one else's. */
export const preferencesAccess = defineAccess(PreferencesService, {
  getNotificationPreferences: "user",
  updateNotificationPreferences: "user",
});

const message = (p: MailPreferences & { updatedAt?: Date | undefined }): NotificationPreferences =>
  create(NotificationPreferencesSchema, {
    receipts: p.receipts,
    reviews: p.reviews,
    ...(p.updatedAt === undefined ? {} : { updatedAt: timestampFromDate(p.updatedAt) }),
  });

/** GET and PUT /api/v1/users/me/notifications: the calling user's kinds of e-mail. */
export function preferencesRoutes(deps: { pool: pg.Pool; clock: Clock }) {
  const { pool, clock } = deps;
  return (router: ConnectRouter) =>
    router.service(PreferencesService, {
      async getNotificationPreferences(_req, ctx) {
        const user = requireUser(ctx);
        return { preferences: message(await mailStore.getPreferences(pool, user.userId)) };
      },
      async updateNotificationPreferences(req, ctx) {
        const user = requireUser(ctx);
        const change = {
          ...(req.receipts === undefined ? {} : { receipts: req.receipts }),
          ...(req.reviews === undefined ? {} : { reviews: req.reviews }),
        };
        return {
          preferences: message(await mailStore.updatePreferences(pool, user.userId, change, clock.now())),
        };
      },
    });
}
