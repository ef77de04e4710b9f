import { describe, expect, it } from "vitest";
import type { CpuProfile } from "./cpu-profile.js";
import { summarizeProfile } from "./cpu-profile.js";

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({
  id,
  callFrame: { functionName, url, lineNumber: 9 },
  children,
});

// One process's stacks: wallet's store sending a query through libs/db into a native write, the events library's
// batch code alone, protobuf decoding with no frame of the project, the garbage collector, and idle time.
const nodes = [
  frame(1, "(root)", "", [2, 3, 6, 7, 8]),
  frame(2, "(idle)", ""),
  frame(3, "record", "file:///repo/services/wallet/src/store.ts", [4]),
  frame(4, "query", "file:///repo/libs/db/src/prepared-statements.ts", [5]),
  frame(5, "writev", ""),
  frame(6, "(garbage collector)", ""),
  frame(7, "decode", "file:///repo/node_modules/@bufbuild/protobuf/dist/esm/from-binary.js"),
  frame(8, "take", "file:///repo/libs/events/src/batch-processor.ts"),
];

/** A profile of `[node, microseconds]` samples, each lasting until the next (the first's delta is 0). */
function profileOf(samples: Array<[number, number]>): CpuProfile {
  const deltas = [0, ...samples.slice(0, -1).map(([, us]) => us)];
  return { nodes, samples: samples.map(([id]) => id), timeDeltas: deltas };
}

describe("summarizeProfile", () => {
  // Second 0: idle but for 0.2 s of writes; seconds 1 and 2 busy throughout.
  const profile = profileOf([
    [2, 800_000],
    [5, 200_000],
    [5, 400_000],
    [8, 300_000],
    [6, 300_000],
    [7, 600_000],
    [3, 400_000],
    [2, 1],
  ]);

  it("gives each second's busy share", () => {
    const { busyPerSecond } = summarizeProfile(profile);
    expect(busyPerSecond.map((b) => Number(b.toFixed(2)))).toEqual([0.2, 1, 1, 0]);
  });

  it("counts a sample for the innermost service on its stack, else the library, else the runtime", () => {
    const { owners, busySeconds } = summarizeProfile(profile);
    expect(busySeconds).toBeCloseTo(2.2);
    expect(Object.fromEntries(owners.map((o) => [o.name, Number(o.seconds.toFixed(2))]))).toEqual({
      "services/wallet": 1.0,
      "(runtime and packages)": 0.6,
      "libs/events": 0.3,
      "(garbage collector)": 0.3,
    });
    expect(owners[0]?.share).toBeCloseTo(1.0 / 2.2);
  });

  it("gives self time by package and by function", () => {
    const { packages, functions } = summarizeProfile(profile);
    expect(Object.fromEntries(packages.map((p) => [p.name, Number(p.seconds.toFixed(2))]))).toEqual({
      "(native)": 0.6,
      "@bufbuild/protobuf": 0.6,
      "services/wallet": 0.4,
      "libs/events": 0.3,
      "(garbage collector)": 0.3,
    });
    expect(functions[0]).toMatchObject({ name: "writev (native)" });
    expect(functions.map((f) => f.name)).toContain("take (libs/events/src/batch-processor.ts:10)");
  });

  it("summarizes only the samples of the window it is given", () => {
    const summary = summarizeProfile(profile, { from: 1, to: 2 });
    expect(summary.seconds).toBeCloseTo(1);
    expect(summary.busySeconds).toBeCloseTo(1);
    expect(summary.owners.map((o) => o.name).sort()).toEqual([
      "(garbage collector)",
      "libs/events",
      "services/wallet",
    ]);
    // The timeline still covers the whole profile.
    expect(summary.busyPerSecond).toHaveLength(4);
  });
});
