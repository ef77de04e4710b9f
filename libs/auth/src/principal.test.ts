import { describe, expect, it } from "vitest";
import type { Principal } from "./principal.js";
import { isOwnerOrAdmin } from "./principal.js";

describe("isOwnerOrAdmin", () => {
  const user: Principal = { kind: "user", userId: "u-1", roles: ["user"], credential: "api_key" };
  const admin: Principal = { kind: "user", userId: "u-2", roles: ["admin"], credential: "jwt" };

  it("is true for the owner and for admins only", () => {
    expect(isOwnerOrAdmin(user, "u-1")).toBe(true);
    expect(isOwnerOrAdmin(user, "u-3")).toBe(false);
    expect(isOwnerOrAdmin(admin, "u-3")).toBe(true);
    expect(isOwnerOrAdmin({ kind: "service", service: "wallet" }, "u-1")).toBe(false);
    expect(isOwnerOrAdmin(undefined, "u-1")).toBe(false);
  });
});
