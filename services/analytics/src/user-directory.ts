import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";

/** Which users exist, as far as analytics needs to know: an import is attributed to one. */
export interface UserDirectory {
  /** True when the platform has this user (identity knows the id). */
  exists(userId: string): Promise<boolean>;
  /**
   * The user's time zone and default currency (their analytics' default days and currency); undefined when
   * unknown. Directories without it leave it out (then UTC days and the base currency).
   */
  profile?(userId: string): Promise<UserProfile | undefined>;
}

/** What analytics needs of a user's profile. */
export interface UserProfile {
  /** IANA zone. */
  timezone: string;
  /** ISO 4217 code. */
  defaultCurrency: string;
}

/** How long a user's profile is reused, in ms: a change shows in their analytics within this time. */
const PROFILE_TTL_MS = 30_000;

/**
 * The directory as identity's GetUser answers it, called as this service (give the client this service's
 * credentials). NOT_FOUND, and an id identity refuses as malformed, mean no such user; any other failure is
 * thrown, so an import is refused while identity is away rather than attributed to someone who may not exist.
 */
export function identityUserDirectory(identity: Client<typeof IdentityService>): UserDirectory {
  const profiles = new Map<string, { at: number; profile: UserProfile | undefined }>();
  return {
    async profile(userId) {
      const now = Date.now();
      const cached = profiles.get(userId);
      if (cached !== undefined && now - cached.at < PROFILE_TTL_MS) return cached.profile;
      let profile: UserProfile | undefined;
      try {
        const user = (await identity.getUser({ id: userId })).user;
        profile = user && { timezone: user.timezone, defaultCurrency: user.defaultCurrency };
      } catch (err) {
        const code = ConnectError.from(err).code;
        if (code !== Code.NotFound && code !== Code.InvalidArgument) throw err;
      }
      if (profiles.size > 10_000) profiles.clear();
      profiles.set(userId, { at: now, profile });
      return profile;
    },
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
