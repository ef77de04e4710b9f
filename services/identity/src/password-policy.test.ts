import { describe, expect, it } from "vitest";
import { checkPassword } from "./password-policy.js";

describe("checkPassword", () => {
  it.each([
    "correct horse battery staple",
    "Tr0ub4dor&3xyz",
    "plum-Orchard-77",
    "zebra crossing at noon",
    "Wohnzimmer Lampe 9",
  ])("accepts %j", (pw) => {
    expect(checkPassword(pw, "alice@example.com")).toBeUndefined();
  });

  it.each([
    ["short1A!", /at least 12/],
    ["correcthorsebatterystaple", /two of/],
    ["123456789012345", /two of|well-known/],
    ["aaaaaaaaaaaaaaaa", /two of/],
    ["Password1234!", /well-known/],
    ["passwordpassword1", /well-known/],
    ["!!Qwertyuiop!!", /well-known/],
    ["1q2w3e4r5t6y", /well-known/],
    ["abcdefghijk123", /well-known/],
    ["Fintech2024!!", /well-known/],
    ["alice-is-great-2024", /email/],
    [`${"x".repeat(1025)}1`, /at most/],
  ])("refuses %j", (pw, why) => {
    expect(checkPassword(pw, "alice@example.com")).toMatch(why);
  });

  it("never repeats the password in its answer", () => {
    const pw = "Password1234!";
    expect(checkPassword(pw, "bob@example.com")).not.toContain(pw);
  });
});
