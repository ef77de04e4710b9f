import type { UserPrincipal } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import { WalletError } from "./errors.js";
import type { Transaction, User, Wallet } from "./model.js";
import { store } from "./store.js";
import type { Users } from "./users.js";

// Who may see and move what: a user reaches only their own wallets and transactions (another user's is
// NOT_FOUND, so ids cannot be probed), admins may read everything, and only active users move money.

const isAdmin = (p: UserPrincipal) => p.roles.includes("admin");

/** The caller's own wallet; admins may read any (`forRead`). */
export async function walletOf(
  users: Users,
  p: UserPrincipal,
  id: string,
  opts: { forRead?: boolean; field?: string } = {},
): Promise<Wallet> {
  const w = await users.wallet(id);
  if (w === undefined || (w.userId !== p.userId && !(opts.forRead && isAdmin(p)))) {
    throw new WalletError("NOT_FOUND", `wallet ${id} not found`, { field: opts.field ?? "id" });
  }
  return w;
}

/** The caller's own transaction; admins may reach any. */
export async function transactionOf(
  db: Queryable,
  p: UserPrincipal,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<Transaction> {
  const t = await store.getTransaction(db, id, opts);
  if (t === undefined || (t.userId !== p.userId && !isAdmin(p))) {
    throw new WalletError("NOT_FOUND", `transaction ${id} not found`, { field: "id" });
  }
  return t;
}

/** The user, who must be active to move money (USER_NOT_ACTIVE with their status otherwise). */
export async function activeUser(users: Users, userId: string): Promise<User> {
  const user = await users.get(userId);
  if (user.status !== "active") {
    throw new WalletError("USER_NOT_ACTIVE", `the user is ${user.status}`, { status: user.status });
  }
  return user;
}

/** A wallet that takes new transactions. */
export function requireOpen(w: Wallet, field = "id"): void {
  if (w.status !== "active") {
    throw new WalletError("CONFLICT", `wallet ${w.id} is closed`, { field, wallet_id: w.id });
  }
}
