import type { Route } from "./transcoder.js";

/** The outcome of looking a request up. */
export type Match =
  | { kind: "route"; route: Route; pathValues: Map<string, string> }
  /** The path exists with other methods. */
  | { kind: "method_not_allowed"; allow: string[] }
  | { kind: "not_found" };

/** Finds the route for a method and path among routes sorted most specific first (see deriveRoutes). */
export function createRouter(routes: readonly Route[]) {
  return {
    routes,
    match(verb: string, path: string): Match {
      const allow = new Set<string>();
      for (const route of routes) {
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
