// docker-compose.yml and the image against the code: no Docker engine exists here, so what can be checked is that
// every service and variable the files name exists, that the values are ones the services accept, and that the
// compose platform is wired like the chart's.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { platformServices as registry } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import {
  calleeOf,
  defaultsOf,
  isRecord,
  parserOf,
  readText,
  readYaml,
  record,
  registryEntry,
  root,
  serviceDirs,
  variablesRead,
} from "./repo.js";

const compose = record(readYaml("docker-compose.yml"), "docker-compose.yml");
const services = record(compose.services, "services");
const chartServices = record(
  record(readYaml("deploy/helm/fintech-platform/values.yaml"), "values.yaml").services,
  "values.yaml services",
);
const INFRA_URLS = new Set(["DATABASE_URL", "NATS_URL", "REDIS_URL", "SMTP_URL"]);

/** Compose's `${NAME:-default}` interpolation with nothing set in the shell: the default. */
const interpolate = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

/** The platform services of the compose file: those that run `node services/<name>/dist/main.js`. */
function platformServices(): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(services)) {
    const svc = record(value, key);
    const command = Array.isArray(svc.command) ? svc.command.join(" ") : "";
    const name = /^node services\/([a-z]+)\/dist\/main\.js$/.exec(command)?.[1];
    if (name !== undefined) {
      expect(key, "a service runs under its own name").toBe(name);
      out.set(name, svc);
    }
  }
  return out;
}

function environment(svc: Record<string, unknown>): Record<string, string> {
  const env = record(svc.environment, "environment");
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v))]));
}

function dependsOn(svc: Record<string, unknown>): Record<string, string> {
  const deps = isRecord(svc.depends_on) ? svc.depends_on : {};
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, String(record(v, k).condition)]));
}

const platform = platformServices();

/**
 * The host address a `ports` entry publishes on: `host_ip` of the long syntax, or the first part of the short
 * `HOST_IP:HOST_PORT:CONTAINER_PORT[/PROTOCOL]`; undefined when it names none, which Docker takes as every
 * interface.
 */
function publishedOn(entry: unknown): string | undefined {
  if (isRecord(entry)) return typeof entry.host_ip === "string" ? entry.host_ip : undefined;
  const [, host] = /^(\[[^\]]*\]|[^:]*):[^:]+:[^:]+$/.exec(String(entry).replace(/\/[a-z]+$/, "")) ?? [];
  return host;
}

describe("docker-compose.yml", () => {
  it("runs every service of the monorepo from the one image, and nothing else of ours", () => {
    expect([...platform.keys()].sort()).toEqual(serviceDirs());
    for (const svc of platform.values()) {
      expect(svc.image).toBe("fintech-platform:local");
      expect(record(svc.build, "build").dockerfile).toBe("deploy/docker/Dockerfile");
      expect(svc.read_only).toBe(true);
    }
  });

  it("keeps Postgres, NATS with JetStream and Redis, each with a health check", () => {
    for (const infra of ["postgres", "nats", "redis"]) {
      expect(record(services[infra], infra).healthcheck, infra).toBeDefined();
    }
    expect(record(services.nats, "nats").command).toContain("-js");
  });

  for (const name of serviceDirs()) {
    describe(name, () => {
      const svc = platform.get(name) ?? {};
      const env = environment(svc);
      const read = variablesRead(name);
      const own = defaultsOf(name);
      const port = String(own.PORT);
      const metricsPort = String(own.METRICS_PORT);

      it("sets only variables its config reads, with values it accepts", () => {
        expect(Object.keys(env).filter((v) => !read.has(v))).toEqual([]);
        expect(() => parserOf(name)(env)).not.toThrow();
      });

      it("listens on its default ports, published on 127.0.0.1 as under ./dev start", () => {
        expect({ PORT: env.PORT, METRICS_PORT: env.METRICS_PORT }).toEqual({
          PORT: port,
          METRICS_PORT: metricsPort,
        });
        expect(svc.ports).toEqual([`127.0.0.1:${port}:${port}`, `127.0.0.1:${metricsPort}:${metricsPort}`]);
      });

      it("is health-checked by the image's probe on its own port", () => {
        const test = record(svc.healthcheck, "healthcheck").test;
        const kind = chartServices[name] !== undefined ? record(chartServices[name], name).kind : undefined;
        expect(test).toEqual(
          kind === "http"
            ? ["CMD", "node", "deploy/docker/healthcheck.mjs", "http", port, "/ready"]
            : ["CMD", "node", "deploy/docker/healthcheck.mjs", "grpc", port],
        );
      });

      it("reaches Postgres, NATS, Redis and every service it calls by name, once they are healthy", () => {
        const deps = dependsOn(svc);
        const wanted: Record<string, string> = {
          DATABASE_URL: "postgres://postgres@postgres:5432/postgres",
          NATS_URL: "nats://nats:4222",
          REDIS_URL: "redis://redis:6379",
          SMTP_URL: "smtp://maildev:1025",
        };
        const infraHost: Record<string, string> = {
          DATABASE_URL: "postgres",
          NATS_URL: "nats",
          REDIS_URL: "redis",
          SMTP_URL: "maildev",
        };
        for (const variable of [...read].filter((v) => v.endsWith("_URL"))) {
          if (INFRA_URLS.has(variable)) {
            expect(env[variable], variable).toBe(wanted[variable]);
            expect(deps[infraHost[variable] ?? ""], `${name} waits for ${variable}`).toBe("service_healthy");
            continue;
          }
          const callee = variable.slice(0, -"_URL".length).toLowerCase();
          const calleePort = String(defaultsOf(callee).PORT);
          expect(env[variable], variable).toBe(`http://${callee}:${calleePort}`);
          expect(deps[callee], `${name} waits for ${callee}`).toBe("service_healthy");
        }
      });

      it("has the registry's ports and probe, and reaches each service at the registry's URL variable and port", () => {
        const entry = registryEntry(name);
        expect(svc.ports).toEqual([
          `127.0.0.1:${entry.port}:${entry.port}`,
          `127.0.0.1:${entry.metricsPort}:${entry.metricsPort}`,
        ]);
        expect(record(svc.healthcheck, "healthcheck").test).toEqual(
          entry.kind === "http"
            ? ["CMD", "node", "deploy/docker/healthcheck.mjs", "http", String(entry.port), "/ready"]
            : ["CMD", "node", "deploy/docker/healthcheck.mjs", "grpc", String(entry.port)],
        );
        for (const variable of Object.keys(env).filter((v) => v.endsWith("_URL") && !INFRA_URLS.has(v))) {
          const callee = calleeOf(variable);
          expect(callee, `${variable} is a registry URL variable`).toBeDefined();
          expect(env[variable], variable).toBe(`http://${callee}:${registryEntry(callee ?? "").port}`);
        }
      });

      it("calls the same services as in the Helm chart", () => {
        const called = Object.keys(env)
          .filter((v) => v.endsWith("_URL") && !INFRA_URLS.has(v))
          .map((v) => v.slice(0, -"_URL".length).toLowerCase())
          .sort();
        const chartCalls = record(chartServices[name], name).calls;
        expect(called).toEqual([...(Array.isArray(chartCalls) ? chartCalls : [])].sort());
      });
    });
  }

  it("publishes every port, Postgres', NATS' and Redis' included, on 127.0.0.1 only", () => {
    expect([
      publishedOn("5432:5432"),
      publishedOn(5432),
      publishedOn({ target: 5432, published: 5432 }),
    ]).toEqual([undefined, undefined, undefined]);
    expect([publishedOn("127.0.0.1:4222:4222/tcp"), publishedOn("[::1]:6379:6379")]).toEqual([
      "127.0.0.1",
      "[::1]",
    ]);
    const published: string[] = [];
    for (const [name, value] of Object.entries(services)) {
      const ports = record(value, name).ports;
      for (const entry of Array.isArray(ports) ? ports : []) {
        expect(publishedOn(entry), `${name} publishes ${JSON.stringify(entry)}`).toBe("127.0.0.1");
        published.push(name);
      }
    }
    expect(new Set(published)).toEqual(new Set(["postgres", "nats", "redis", "maildev", ...platform.keys()]));
  });

  it("gives identity exactly the secret every other service presents", () => {
    const credentials = environment(platform.get("identity") ?? {}).SERVICE_CREDENTIALS ?? "";
    const listed = Object.fromEntries(credentials.split(",").map((item) => item.split(":", 2)));
    const presented = Object.fromEntries(
      [...platform.entries()]
        .filter(([name]) => name !== "identity")
        .map(([name, svc]) => [name, environment(svc).SERVICE_CLIENT_SECRET]),
    );
    expect(listed).toEqual(presented);
  });
});

describe("the image", () => {
  const dockerfile = readText("deploy/docker/Dockerfile");

  it("is built on Node 24, runs as a numeric non-root user and installs no dev dependencies", () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24[-.\w]*$/m);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toContain("--omit=dev");
    // The default command, for `docker run` without one: the service named by SERVICE.
    expect(dockerfile).toContain(`exec node \\"services/\${SERVICE}/dist/main.js\\"`);
    expect(existsSync(join(root, "deploy/docker/healthcheck.mjs"))).toBe(true);
  });

  it("exposes every port and metrics port of the service registry", () => {
    const exposed = new Set<number>();
    for (const line of dockerfile.split("\n").filter((l) => l.startsWith("EXPOSE "))) {
      for (const item of line.slice("EXPOSE ".length).trim().split(/\s+/)) {
        const [from = 0, to = from] = item.split("-").map(Number);
        for (let port = from; port <= to; port++) exposed.add(port);
      }
    }
    for (const s of registry) {
      expect({ service: s.name, port: exposed.has(s.port), metrics: exposed.has(s.metricsPort) }).toEqual({
        service: s.name,
        port: true,
        metrics: true,
      });
    }
  });

  it("copies the manifest of every workspace before npm ci (else npm ci refuses the lockfile)", () => {
    const pkg = record(JSON.parse(readText("package.json")), "package.json");
    const workspaces = Array.isArray(pkg.workspaces) ? pkg.workspaces.map(String) : [];
    const copies = dockerfile.split("\n").filter((line) => line.startsWith("COPY --parents "));
    expect(copies.length).toBe(2);
    for (const line of copies) {
      for (const ws of workspaces) expect(line, ws).toContain(`${ws.split("/")[0]}/*/package.json`);
    }
  });

  it("leaves out of the build context nothing the build needs", () => {
    const ignored = readText(".dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const needed of [
      "libs",
      "services",
      "clients",
      "proto",
      "tools",
      "deploy",
      "deploy/docker",
      "deploy/test",
    ]) {
      expect(ignored).not.toContain(needed);
    }
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", ".git"]));
  });
});
