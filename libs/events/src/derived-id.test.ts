import { describe, expect, it } from "vitest";
import { derivedId } from "./derived-id.js";

describe("derivedId", () => {
  it("gives the same name the same UUID version 8, and another name another", () => {
    const id = derivedId("wallet-transfer:t1:0:post");
    expect(id).toBe(derivedId("wallet-transfer:t1:0:post"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedId("wallet-transfer:t1:0:hold")).not.toBe(id);
  });

  it("keeps the ids already written: ledger transfers and imported rows stored under them are found again", () => {
    expect(derivedId("wallet-transfer:t1:0:post")).toBe("847605ef-b6aa-8903-be5a-a53fb510b60d");
    expect(derivedId("ledger.expiry:p1")).toBe("0807de75-3ea2-8039-8189-843ecff52664");
  });
});
