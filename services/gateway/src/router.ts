import type { Route } from "./transcoder.js";

/** The outcome of looking a request up. */
export type Match =
  | { kind: "route"; route: Route; pathValues: Map<string, string> }
  /** The path exists with other methods. */
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "not_found" };

/** How many segments a path has ("/" is one, empty): its "/" count. */
function segmentCount(path: string): number {
  let n = 0;
  for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) n++;
  return n;
}

/**
 * Finds the route for a method and path among routes sorted most specific first (see deriveRoutes). Only the
 * routes whose templates can match a path of its length are tried, in that order.
 */
export function createRouter(routes: readonly Route[]) {
  const longest = Math.max(0, ...routes.map((r) => r.template.segments.count));
  const fits = (route: Route, n: number) => {
    const { count, open } = route.template.segments;
    return open ? n >= count - 1 : n === count;
  };
  // byLength[n]: the routes a path of n segments can match; a longer path than any template only open ones.
  const byLength = Array.from({ length: longest + 2 }, (_, n) => routes.filter((r) => fits(r, n)));
  return {
    routes,
    match(verb: string, path: string): Match {
      const allow = new Set<string>();
      for (const route of byLength[Math.min(segmentCount(path), longest + 1)] ?? []) {
        const values = route.template.match(path);
        if (values === undefined) continue;
        if (route.verb === verb) return { kind: "route", route, pathValues: values };
        allow.add(route.verb);
      }
      if (allow.size === 0) return { kind: "not_found" };
      return { kind: "method_not_allowed", allow: [...allow].sort() };
    },
  };
}

export type Router = ReturnType<typeof createRouter>;
