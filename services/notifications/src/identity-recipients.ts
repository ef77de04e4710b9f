import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { RecipientLookup } from "./mail-outbox.js";

/**
 * A user's address as identity's GetUser answers it, asked as this service (give the client this service's
 * credentials): for a user whose identity events have not arrived yet. NOT_FOUND, and an id identity refuses
 * as malformed, mean no such user; any other failure is thrown, so the mail is retried later rather than
 * dropped while identity is away.
 */
export function identityRecipients(identity: Client<typeof IdentityService>): RecipientLookup {
  return async (userId) => {
    try {
      const user = (await identity.getUser({ id: userId })).user;
      if (user === undefined) return undefined;
      return {
        email: user.email,
        deleted: user.status === UserStatus.DELETED || user.deletedAt !== undefined,
      };
    } catch (err) {
      const code = ConnectError.from(err).code;
      if (code === Code.NotFound || code === Code.InvalidArgument) return undefined;
      throw err;
    }
  };
}
