// The Helm chart against its schema and against the code. No helm binary exists here, so the templates are not
// rendered: the variables they set are modelled below from _helpers.tpl (a check keeps the model and the
// templates naming the same variables), and every service's configuration parser judges them.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { testEnv } from "@fintech/testing";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";

const { databaseUrl } = testEnv();

import { platformServices } from "@fintech/platform";
import type { ParseConfig } from "./repo.js";
import {
  calleeOf,
  chartDir,
  defaultsOf,
  mergeValues,
  parserOf,
  readText,
  readYaml,
  record,
  registryEntry,
  root,
  serviceDirs,
  variablesRead,
} from "./repo.js";

interface ServiceValues {
  kind: "grpc" | "http";
  port: number;
  metricsPort: number;
  grpcService: string;
  schema: string;
  nats: boolean;
  redisKey: "" | "REDIS_URL" | "ANALYTICS_REDIS_URL";
  calls: string[];
  env: Record<string, string>;
}

interface ChartValues {
  logLevel: string;
  grpcReflection: boolean;
  externals: {
    databaseUrl: string;
    natsUrl: string;
    natsStreamReplicas: number;
    redisUrl: string;
    analyticsRedisUrl: string;
    smtpUrl: string;
  };
  events: { namespace: string };
  auth: { jwtIssuer: string; jwtAudience: string; adminEmail: string; adminPassword: string };
  secrets: {
    existingSecret: string;
    serviceClientSecrets: Record<string, string>;
    webhookSecretKey?: string;
    auditSigningKey?: string;
  };
  services: Record<string, ServiceValues>;
  networkPolicy: { enabled: boolean; gatewayFrom: unknown[]; metricsFrom: unknown[] };
}

const schema = record(
  JSON.parse(readText("deploy/helm/fintech-platform/values.schema.json")),
  "values.schema.json",
);
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const defaults = record(readYaml("deploy/helm/fintech-platform/values.yaml"), "values.yaml");
const ciFiles = readdirSync(join(chartDir, "ci"))
  .filter((f) => f.endsWith(".yaml"))
  .sort();

/** values.yaml with a ci/ file laid over it, as `helm install -f ci/<file>` would see them. */
const ciValues = (file: string) =>
  mergeValues(defaults, record(readYaml(`deploy/helm/fintech-platform/ci/${file}`), file));

function schemaErrors(values: unknown): string[] {
  return validate(values) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`);
}

function asChartValues(values: Record<string, unknown>): ChartValues {
  expect(schemaErrors(values)).toEqual([]);
  return values as unknown as ChartValues;
}

const chart = asChartValues(defaults);

// What the templates set, besides <CALLEE>_URL and the service's `env`. Kept equal to the names in _helpers.tpl by
// the "model" test below.
const CONFIG_MAP_VARIABLES = [
  "HOST",
  "PORT",
  "METRICS_PORT",
  "LOG_LEVEL",
  "JWT_ISSUER",
  "JWT_AUDIENCE",
  "SERVICE_CLIENT_ID",
  "GRPC_REFLECTION",
  "DB_SCHEMA",
  "NATS_STREAM_REPLICAS",
  "EVENTS_NAMESPACE",
];
const SECRET_VARIABLES = [
  "DATABASE_URL",
  "NATS_URL",
  "REDIS_URL",
  "SERVICE_CREDENTIALS",
  "ADMIN_EMAIL",
  "ADMIN_PASSWORD",
  "SERVICE_CLIENT_SECRET",
  "WEBHOOK_SECRET_KEY",
  "AUDIT_SIGNING_KEY",
  "SMTP_URL",
];
// URL variables that are not another service's address.
const INFRA_URLS = new Set(["DATABASE_URL", "NATS_URL", "REDIS_URL", "SMTP_URL"]);

/** A service's secret at identity as the chart's Secret would hold it. */
const clientSecret = (values: ChartValues, name: string) =>
  values.secrets.serviceClientSecrets[name] ?? "generated-by-randAlphaNum-32-xx";

/**
 * The environment one service's pod gets from the chart (its ConfigMap, then the Secret's entries), following
 * fintech.config and fintech.secretEnv in templates/_helpers.tpl. With secrets.existingSecret the Secret's values
 * are stand-ins of the right shape.
 */
function chartEnv(values: ChartValues, name: string): Record<string, string> {
  const svc = values.services[name];
  if (svc === undefined) throw new Error(`no values for service ${name}`);
  const { externals } = values;
  const env: Record<string, string> = {
    HOST: "0.0.0.0",
    PORT: String(svc.port),
    METRICS_PORT: String(svc.metricsPort),
    LOG_LEVEL: values.logLevel,
    JWT_ISSUER: values.auth.jwtIssuer,
    JWT_AUDIENCE: values.auth.jwtAudience,
  };
  if (name !== "identity") env.SERVICE_CLIENT_ID = name;
  if (svc.kind === "grpc") env.GRPC_REFLECTION = String(values.grpcReflection);
  if (svc.schema !== "") env.DB_SCHEMA = svc.schema;
  if (svc.nats) {
    env.NATS_STREAM_REPLICAS = String(externals.natsStreamReplicas);
    env.EVENTS_NAMESPACE = values.events.namespace;
  }
  for (const callee of svc.calls) {
    env[`${callee.toUpperCase()}_URL`] =
      `http://demo-fintech-platform-${callee}-replicas:${values.services[callee]?.port}`;
  }
  Object.assign(env, svc.env);
  if (svc.schema !== "") env.DATABASE_URL = externals.databaseUrl || "postgres://app:secret@db:5432/app";
  if (svc.nats) env.NATS_URL = externals.natsUrl || "nats://nats:4222";
  if (svc.redisKey !== "") {
    const analytics = svc.redisKey === "ANALYTICS_REDIS_URL" ? externals.analyticsRedisUrl : "";
    env.REDIS_URL = analytics || externals.redisUrl || "redis://redis:6379";
  }
  if (name === "identity") {
    env.SERVICE_CREDENTIALS = Object.keys(values.services)
      .filter((s) => s !== "identity")
      .map((s) => `${s}:${clientSecret(values, s)}`)
      .join(",");
    if (values.auth.adminEmail !== "") {
      env.ADMIN_EMAIL = values.auth.adminEmail;
      env.ADMIN_PASSWORD = values.auth.adminPassword;
    }
  } else {
    env.SERVICE_CLIENT_SECRET = clientSecret(values, name);
  }
  if (name === "notifications") {
    env.SMTP_URL = externals.smtpUrl || "smtp://mail:587";
    env.WEBHOOK_SECRET_KEY =
      values.secrets.webhookSecretKey || "Z2VuZXJhdGVkLWJ5LXJhbmRCeXRlcy0zMi1ieXRlcyE=";
    env.AUDIT_SIGNING_KEY = values.secrets.auditSigningKey || "Z2VuZXJhdGVkLWJ5LXJhbmRCeXRlcy0zMi1ieXRlcyE=";
  }
  return env;
}

/** `package a.b.v1;` + `service XService {` of proto/fintech/<name>/v1/<name>.proto. */
function protoServiceName(name: string): string | undefined {
  const path = `proto/fintech/${name}/v1/${name}.proto`;
  if (!existsSync(join(root, path))) return undefined;
  const text = readText(path);
  const pkg = /^package\s+([\w.]+);/m.exec(text)?.[1];
  const svc = /^service\s+(\w+)\s*\{/m.exec(text)?.[1];
  return pkg && svc ? `${pkg}.${svc}` : undefined;
}

describe("values", () => {
  it("values.yaml and every ci/ values file pass values.schema.json", () => {
    expect(ciFiles.length).toBeGreaterThanOrEqual(3);
    expect(schemaErrors(defaults)).toEqual([]);
    for (const file of ciFiles)
      expect({ file, errors: schemaErrors(ciValues(file)) }).toEqual({ file, errors: [] });
  });

  it("the schema refuses the mistakes it is there for", () => {
    const withService = (patch: Record<string, unknown>) =>
      mergeValues(defaults, { services: { fx: patch } });
    // A variable the chart sets itself would be set twice.
    expect(schemaErrors(withService({ env: { PORT: "1" } }))).not.toEqual([]);
    // Service addresses come from `calls`, never from env.
    expect(schemaErrors(withService({ env: { LEDGER_URL: "http://elsewhere" } }))).not.toEqual([]);
    expect(schemaErrors(withService({ env: { FX_SPREAD_BPS: 25 } }))).not.toEqual([]);
    expect(schemaErrors(withService({ kind: "tcp" }))).not.toEqual([]);
    expect(schemaErrors(withService({ grpcService: "" }))).not.toEqual([]);
    expect(schemaErrors(withService({ replica: 3 }))).not.toEqual([]);
    expect(
      schemaErrors(mergeValues(defaults, { secrets: { serviceClientSecrets: { fx: "short" } } })),
    ).not.toEqual([]);
    expect(
      schemaErrors(mergeValues(defaults, { securityContext: { allowPrivilegeEscalation: true } })),
    ).not.toEqual([]);
    expect(schemaErrors(mergeValues(defaults, { podSecurityContext: { runAsNonRoot: false } }))).not.toEqual(
      [],
    );
  });
});

describe("every service of the monorepo", () => {
  it("has its values entry, and the chart has no other", () => {
    expect(Object.keys(chart.services).sort()).toEqual(serviceDirs());
  });

  it("is in libs/platform's service registry, and the registry names no other", () => {
    expect(platformServices.map((s) => s.name).sort()).toEqual(serviceDirs());
  });

  for (const name of serviceDirs()) {
    describe(name, () => {
      const svc = chart.services[name];
      const read = variablesRead(name);
      const own = defaultsOf(name);

      it("has the port and metrics port its config.ts defaults to", () => {
        expect({ port: svc?.port, metricsPort: svc?.metricsPort }).toEqual({
          port: own.PORT,
          metricsPort: own.METRICS_PORT,
        });
      });

      it("has the port, metrics port and kind the service registry gives it, as its config.ts does", () => {
        const entry = registryEntry(name);
        expect({ port: svc?.port, metricsPort: svc?.metricsPort, kind: svc?.kind }).toEqual({
          port: entry.port,
          metricsPort: entry.metricsPort,
          kind: entry.kind,
        });
        expect({ port: own.PORT, metricsPort: own.METRICS_PORT }).toEqual({
          port: entry.port,
          metricsPort: entry.metricsPort,
        });
      });

      it("calls each service at the URL variable the registry names, the templates' `<CALLEE>_URL`", () => {
        for (const callee of svc?.calls ?? []) {
          const urlEnv = registryEntry(callee).urlEnv;
          expect({ callee, urlEnv }).toEqual({ callee, urlEnv: `${callee.toUpperCase()}_URL` });
          expect(read.has(urlEnv ?? ""), `${name} reads ${urlEnv}`).toBe(true);
        }
        const reached = [...read].map(calleeOf).filter((c): c is string => c !== undefined);
        expect(reached.sort()).toEqual([...(svc?.calls ?? [])].sort());
      });

      it("gets Postgres, NATS and Redis exactly when its config reads them", () => {
        expect(svc?.schema).toBe(read.has("DB_SCHEMA") ? own.DB_SCHEMA : "");
        expect(svc?.schema !== "").toBe(read.has("DATABASE_URL"));
        expect(svc?.nats).toBe(read.has("NATS_URL"));
        expect(svc?.redisKey !== "").toBe(read.has("REDIS_URL"));
      });

      it("has every service it calls wired by `calls` (the 127.0.0.1 defaults are wrong in a cluster)", () => {
        const callees = [...read]
          .filter((v) => v.endsWith("_URL") && !INFRA_URLS.has(v))
          .map((v) => v.slice(0, -"_URL".length).toLowerCase())
          .sort();
        expect([...(svc?.calls ?? [])].sort()).toEqual(callees);
        for (const callee of callees) expect(chart.services[callee], `${name} calls ${callee}`).toBeDefined();
      });

      it("is probed as what it serves", () => {
        if (svc?.kind === "grpc") expect(svc.grpcService).toBe(protoServiceName(name));
        else
          expect({ kind: svc?.kind, grpcService: svc?.grpcService, name }).toEqual({
            kind: "http",
            grpcService: "",
            name: "gateway",
          });
      });

      it("applies its migrations and exits 0 with --migrate-only when it has a schema (the migrations Job runs it)", () => {
        if (!svc?.schema) return;
        const schema = `migrate_only_${name}_${process.pid}`;
        const run = spawnSync(
          process.execPath,
          [
            "--conditions=source",
            "--import",
            "tsx",
            join(root, `services/${name}/src/main.ts`),
            "--migrate-only",
          ],
          {
            cwd: root,
            env: { ...process.env, DB_SCHEMA: schema, LOG_LEVEL: "warn" },
            timeout: 60_000,
            encoding: "utf8",
          },
        );
        try {
          expect(run.status, run.stderr).toBe(0);
          const tables = spawnSync(
            "psql",
            [databaseUrl, "-Atc", `SELECT count(*) FROM pg_tables WHERE schemaname = '${schema}'`],
            { encoding: "utf8" },
          );
          expect(Number(tables.stdout.trim())).toBeGreaterThan(2);
        } finally {
          spawnSync("psql", [databaseUrl, "-qc", `DROP SCHEMA IF EXISTS ${schema} CASCADE`]);
        }
      }, 90_000);
    });
  }
});

describe("the environment the chart gives each service", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    // values.yaml alone has no URLs (the templates `required` them); ci/default-values.yaml gives only those.
    ...ciFiles.map((file): [string, Record<string, unknown>] => [file, ciValues(file)]),
  ];
  for (const [file, raw] of cases) {
    it(`${file}: every variable is one the service reads, and its config accepts them all`, () => {
      const values = asChartValues(raw);
      for (const name of Object.keys(values.services)) {
        const env = chartEnv(values, name);
        const read = variablesRead(name);
        expect({ name, unknown: Object.keys(env).filter((v) => !read.has(v)) }).toEqual({
          name,
          unknown: [],
        });
        const parse: ParseConfig = parserOf(name);
        expect(() => parse(env), `${name} with ${file}`).not.toThrow();
      }
    });
  }

  it("is modelled on the variables the templates name", () => {
    const helpers = readText("deploy/helm/fintech-platform/templates/_helpers.tpl");
    const configBlock = /define "fintech\.config"([\s\S]*?)\{\{- end \}\}\n\n/.exec(helpers)?.[1] ?? "";
    const secretBlock = /define "fintech\.secretEnv"([\s\S]*?)\{\{- end \}\}\n$/.exec(helpers)?.[1] ?? "";
    const configNames = [...configBlock.matchAll(/^([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]);
    const secretNames = [...secretBlock.matchAll(/- name: ([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]);
    expect(configNames.sort()).toEqual([...CONFIG_MAP_VARIABLES].sort());
    expect(configBlock).toContain("{{ upper $callee }}_URL:");
    expect(configBlock).toContain("range $key, $value := .svc.env");
    expect(secretNames.sort()).toEqual([...SECRET_VARIABLES].sort());

    // The migrations Job sets a few of them itself; each must be read by every service it runs for.
    const job = readText("deploy/helm/fintech-platform/templates/migrations-job.yaml");
    const jobNames = [...job.matchAll(/- name: ([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? "");
    expect(jobNames.sort()).toEqual(["DATABASE_URL", "DB_SCHEMA", "LOG_LEVEL"]);
    for (const [name, svc] of Object.entries(chart.services)) {
      if (svc.schema) for (const v of jobNames) expect(variablesRead(name).has(v), `${name} ${v}`).toBe(true);
    }
  });
});

describe("what the service ports expose", () => {
  const grpcServices = Object.entries(chart.services).filter(([, svc]) => svc.kind === "grpc");

  it("production values switch reflection off in every gRPC service, and a values file can switch it on", () => {
    expect(grpcServices.length).toBeGreaterThan(0);
    expect(chart.grpcReflection).toBe(false);
    for (const [name] of grpcServices) {
      const config = parserOf(name)(chartEnv(chart, name));
      expect({ name, reflection: "GRPC_REFLECTION" in config && config.GRPC_REFLECTION }).toEqual({
        name,
        reflection: false,
      });
    }
    const small = asChartValues(ciValues("small-values.yaml"));
    for (const [name] of grpcServices) {
      const config = parserOf(name)(chartEnv(small, name));
      expect("GRPC_REFLECTION" in config && config.GRPC_REFLECTION, name).toBe(true);
    }
    // The schema refuses a service setting it on its own, past the chart's switch.
    expect(
      schemaErrors(mergeValues(defaults, { services: { fx: { env: { GRPC_REFLECTION: "true" } } } })),
    ).not.toEqual([]);
  });

  it("keeps service ports to the release's pods and metrics ports to metricsFrom (the NetworkPolicy)", () => {
    expect(chart.networkPolicy.enabled).toBe(true);
    // Nobody but the monitoring namespace scrapes metrics by default; an empty list would mean nobody at all.
    expect(chart.networkPolicy.metricsFrom).toEqual([
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
    ]);
    const policy = readText("deploy/helm/fintech-platform/templates/networkpolicy.yaml");
    expect(policy).toContain("range $name, $svc := .Values.services");
    expect(policy).toContain("policyTypes: [Ingress]");
    // The service port: from the gateway's allowed peers for the http edge, else from this release's pods only.
    const servicePort = policy.slice(
      policy.indexOf("- port: {{ $svc.port }}"),
      policy.indexOf("metricsFrom }}"),
    );
    expect(servicePort).toContain('{{- if eq $svc.kind "http" }}');
    expect(servicePort).toContain("{{- with $.Values.networkPolicy.gatewayFrom }}");
    expect(servicePort).toMatch(
      /\{\{- else \}\}\s*from:\s*- podSelector:\s*matchLabels:\s*app\.kubernetes\.io\/name: \{\{ include "fintech\.name" \$ \}\}\s*app\.kubernetes\.io\/instance: \{\{ \$\.Release\.Name \}\}/,
    );
    // The metrics port: a rule only when metricsFrom names someone, and then only for them.
    expect(policy).toMatch(
      /\{\{- with \$\.Values\.networkPolicy\.metricsFrom \}\}\s*- ports:\s*- port: \{\{ \$svc\.metricsPort \}\}\s*protocol: TCP\s*from:\s*\{\{- toYaml \. \| nindent 8 \}\}\s*\{\{- end \}\}/,
    );
    // No other rule opens a port.
    expect([...policy.matchAll(/- port: /g)].length).toBe(2);
  });
});

describe("templates", () => {
  const templates = readdirSync(join(chartDir, "templates")).sort();
  const text = (file: string) => readText(`deploy/helm/fintech-platform/templates/${file}`);

  it("open and close every if, range, with and define (no helm here to parse them)", () => {
    for (const file of templates) {
      let depth = 0;
      for (const [, action = ""] of text(file).matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)) {
        if (/^(if|range|with|define|block)\b/.test(action)) depth++;
        else if (/^end\b/.test(action)) depth--;
        expect(depth, `${file}: an {{ end }} without its opening`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${file}: an opening without its {{ end }}`).toBe(0);
    }
  });

  it("describe each service with the resources the issue asks for", () => {
    const kinds = templates.flatMap((f) => [...text(f).matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]));
    expect(kinds.sort()).toEqual(
      [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Ingress",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Secret",
        "Secret",
        "Service",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
      ].sort(),
    );
    for (const file of [
      "configmap.yaml",
      "deployment.yaml",
      "hpa.yaml",
      "migrations-job.yaml",
      "networkpolicy.yaml",
      "pdb.yaml",
      "service.yaml",
      "serviceaccount.yaml",
    ]) {
      expect(text(file), file).toContain("range $name, $svc := .Values.services");
    }
    expect(templates).toContain("NOTES.txt");
  });

  it("give each gRPC service a headless Service that its callers' URLs name, and keep a ClusterIP one for all", () => {
    const service = text("service.yaml");
    const split = service.indexOf('{{- if eq $svc.kind "grpc" }}');
    expect(split).toBeGreaterThan(0);
    const clusterIp = service.slice(0, split);
    const headless = service.slice(split);
    // Every service, the REST edge included, keeps its ClusterIP Service: the Ingress, port-forward and the
    // ServiceMonitor's metrics port use it.
    expect(clusterIp).toContain("type: ClusterIP");
    expect(clusterIp).toContain('name: {{ include "fintech.componentName" $ctx }}');
    expect(clusterIp).toContain("targetPort: metrics");
    expect(text("ingress.yaml")).not.toContain("replicas");
    // gRPC services also get a headless one: its name resolves to every ready pod, the service port only.
    expect(headless).toContain('name: {{ include "fintech.replicasName" $ctx }}');
    expect(headless).toMatch(/clusterIP: None\s+publishNotReadyAddresses: false/);
    expect(headless).toContain("targetPort: grpc");
    expect(headless).not.toContain("targetPort: metrics");
    expect(headless).not.toContain("type: ClusterIP");
    // ... and is what every caller's <SERVICE>_URL names.
    const helpers = readText("deploy/helm/fintech-platform/templates/_helpers.tpl");
    expect(helpers).toContain(
      '{{ upper $callee }}_URL: {{ printf "http://%s:%v" (include "fintech.replicasName" (dict "root" $root "name" $callee)) $port | quote }}',
    );
    expect(helpers).toMatch(
      /define "fintech\.replicasName" -\}\}\s*\{\{- printf "%s-replicas" \(include "fintech\.componentName" \.\)/,
    );
    // Only gRPC services are called: the edge is never a callee.
    for (const [name, svc] of Object.entries(chart.services)) {
      for (const callee of svc.calls)
        expect(chart.services[callee]?.kind, `${name} calls ${callee}`).toBe("grpc");
    }
  });

  it("keep migrations pods out of the services' selectors and probe the ports the values give", () => {
    const job = text("migrations-job.yaml");
    expect(job).toContain("app.kubernetes.io/component: {{ $name }}-migrations");
    expect(job).not.toContain("fintech.selectorLabels");
    expect(job).toContain('"--migrate-only"');
    const deployment = text("deployment.yaml");
    expect(deployment).toContain("grpc: { port: {{ $svc.port }} }");
    expect(deployment).toContain("grpc: { port: {{ $svc.port }}, service: {{ $svc.grpcService | quote }} }");
    expect(deployment).toContain(
      "httpGet: { path: {{ $.Values.gatewayReadinessPath }}, port: {{ $svc.kind }} }",
    );
  });
});
