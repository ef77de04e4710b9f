import { describe, expect, it } from "vitest";
import { namespacedSubject, streamName, stripNamespace } from "./namespace.js";

describe("namespace", () => {
  it("leaves names alone in production (empty namespace)", () => {
    expect(streamName("fx")).toBe("FX");
    expect(namespacedSubject("fx.rate.updated")).toBe("fx.rate.updated");
    expect(stripNamespace("fx.rate.updated")).toBe("fx.rate.updated");
  });

  it("prefixes stream names and subjects, and strips the subject prefix back", () => {
    expect(streamName("fx", "t1a2b")).toBe("T1A2B_FX");
    expect(namespacedSubject("fx.>", "t1a2b")).toBe("t1a2b.fx.>");
    expect(stripNamespace("t1a2b.fx.rate.updated", "t1a2b")).toBe("fx.rate.updated");
    expect(stripNamespace("other.fx.rate.updated", "t1a2b")).toBe("other.fx.rate.updated");
  });
});
