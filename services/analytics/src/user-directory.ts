import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";

/** Which users exist, as far as analytics needs to know: an import is attributed to one. */
export interface UserDirectory {
  /** True when the platform has this user (identity knows the id). */
  exists(userId: string): Promise<boolean>;
}

/**
 * The directory as identity's GetUser answers it, called as this service (give the client this service's
 * credentials). NOT_FOUND, and an id identity refuses as malformed, mean no such user; any other failure is
 * thrown, so an import is refused while identity is away rather than attributed to someone who may not exist.
 */
export function identityUserDirectory(identity: Client<typeof IdentityService>): UserDirectory {
  return {
    async exists(userId) {
      try {
        return (await identity.getUser({ id: userId })).user !== undefined;
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (code === Code.NotFound || code === Code.InvalidArgument) return false;
        throw err;
      }
    },
  };
}
