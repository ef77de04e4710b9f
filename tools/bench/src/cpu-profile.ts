// Reads a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` and BENCH_CPU_PROF write it): how busy the thread
// was second by second, and where its busy time went over a window of the profile, by owner (the service or
// library whose code the sample ran for), by package and by function.

/** The parts of a `.cpuprofile` this reads. */
export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  /** Microseconds from the sample before to this one (the first: from the profile's start). */
  timeDeltas: number[];
}

/** A name and the busy time it took, in seconds and as a share of the window's busy time. */
export interface Share {
  name: string;
  seconds: number;
  share: number;
}

export interface ProfileSummary {
  /** Seconds the window covers, and those of them the thread was not idle. */
  seconds: number;
  busySeconds: number;
  /** The whole profile's busy share per second (index: seconds from its first sample). */
  busyPerSecond: number[];
  /**
   * By the innermost frame of a service's code on the stack (`services/<name>`), else of a library's
   * (`libs/<name>`, `tools/<name>`), else the garbage collector, V8's `(program)`, or `(runtime and packages)`:
   * a query a service sends through libs/db counts as the service's while the service's frame is on the stack
   * (past an await it often is not, and then counts as libs/db's).
   */
  owners: Share[];
  /** Self time by package (node_modules), Node's built-in modules, native code, or the project's owner. */
  packages: Share[];
  /** Self time by function, `name (file:line)`. */
  functions: Share[];
}

/** A part of the profile in seconds from its first sample; the whole of it by default. */
export interface ProfileWindow {
  from?: number | undefined;
  to?: number | undefined;
}

const IDLE = "(idle)";
const OWN_CODE = /\/(services|libs|tools)\/([^/]+)\/src\//;
const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;
const V8_ENTRIES = new Set(["(garbage collector)", "(program)", "(root)"]);

/** Summarizes `profile` over `window`; see {@link ProfileSummary}. */
export function summarizeProfile(profile: CpuProfile, window: ProfileWindow = {}): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);

  const from = window.from ?? 0;
  const to = window.to ?? Number.POSITIVE_INFINITY;
  const selfUs = new Map<number, number>();
  const perSecond: Array<{ all: number; busy: number }> = [];
  let at = 0;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? 0;
    // A sample stands for what ran from its time to the next sample's.
    at += profile.timeDeltas[i] ?? 0;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const idle = byId.get(id)?.callFrame.functionName === IDLE;
    const second = Math.floor(at / 1e6);
    perSecond[second] ??= { all: 0, busy: 0 };
    const s = perSecond[second];
    s.all += us;
    if (!idle) s.busy += us;
    if (at / 1e6 < from || at / 1e6 >= to) continue;
    windowUs += us;
    if (!idle) selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  }

  const owners = new Map<string, number>();
  const packages = new Map<string, number>();
  const functions = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    busyUs += us;
    const owner = ownerOf(id, byId, parentOf);
    add(owners, owner, us);
    add(packages, packageOf(frame.url, frame.functionName, owner), us);
    const file = frame.url.replace(/^.*\/node_modules\//, "").replace(/^.*\/(services|libs|tools)\//, "$1/");
    const where = file === "" ? "native" : `${file}:${frame.lineNumber + 1}`;
    add(functions, `${frame.functionName || "(anonymous)"} (${where})`, us);
  }

  const shares = (m: Map<string, number>): Share[] =>
    [...m]
      .map(([name, us]) => ({ name, seconds: us / 1e6, share: busyUs === 0 ? 0 : us / busyUs }))
      .sort((a, b) => b.seconds - a.seconds);
  return {
    seconds: windowUs / 1e6,
    busySeconds: busyUs / 1e6,
    busyPerSecond: Array.from(perSecond, (s) => (s === undefined || s.all === 0 ? 0 : s.busy / s.all)),
    owners: shares(owners),
    packages: shares(packages),
    functions: shares(functions),
  };
}

function ownerOf(
  leaf: number,
  byId: Map<number, CpuProfile["nodes"][number]>,
  parentOf: Map<number, number>,
): string {
  let library: string | undefined;
  for (let id: number | undefined = leaf; id !== undefined; id = parentOf.get(id)) {
    const m = OWN_CODE.exec(byId.get(id)?.callFrame.url ?? "");
    if (m === null) continue;
    const name = `${m[1]}/${m[2]}`;
    if (m[1] === "services") return name;
    library ??= name;
  }
  if (library !== undefined) return library;
  const leafName = byId.get(leaf)?.callFrame.functionName ?? "";
  return V8_ENTRIES.has(leafName) ? leafName : "(runtime and packages)";
}

function packageOf(url: string, functionName: string, owner: string): string {
  const pkg = PACKAGE.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  if (OWN_CODE.test(url)) return owner;
  if (url.startsWith("node:")) return "node (built-in modules)";
  if (V8_ENTRIES.has(functionName)) return functionName;
  return "(native)";
}
