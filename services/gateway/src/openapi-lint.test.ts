import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { backends } from "./backends.js";
import { buildOpenApi } from "./openapi.js";
import { deriveRoutes } from "./transcoder.js";

// The document a gateway with every backend serves at /openapi.json, through both linters a client generator's
// users are likely to run: redocly's recommended rules and Spectral's OpenAPI rules, offline, with no error and
// no warning allowed.

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const lintDir = join(dirname(fileURLToPath(import.meta.url)), "..", "lint");
const binOf = (pkg: string, bin: string) => {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = (require(manifest) as { bin: Record<string, string> }).bin;
  return join(dirname(manifest), bins[bin] ?? "");
};

interface Problem {
  rule: string;
  severity: string;
  message: string;
  where: string;
}

async function lint(tool: (file: string) => Promise<Problem[]>): Promise<Problem[]> {
  const dir = await mkdtemp(join(tmpdir(), "openapi-lint-"));
  try {
    const file = join(dir, "openapi.json");
    await writeFile(file, JSON.stringify(buildOpenApi(deriveRoutes(backends))));
    return await tool(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Both exit non-zero when they find something; their JSON report on stdout says what.
async function output(args: string[]): Promise<string> {
  const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
  try {
    return (await run(process.execPath, args, { env, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    const stdout = (err as { stdout?: unknown }).stdout;
    if (typeof stdout === "string" && stdout.trim() !== "") return stdout;
    throw err;
  }
}

const redocly = async (file: string): Promise<Problem[]> => {
  const text = await output([
    binOf("@redocly/cli", "redocly"),
    "lint",
    file,
    "--config",
    join(lintDir, "redocly.yaml"),
    "--format",
    "json",
  ]);
  const report = JSON.parse(text) as {
    problems: { ruleId: string; severity: string; message: string; location: { pointer?: string }[] }[];
  };
  return report.problems.map((p) => ({
    rule: p.ruleId,
    severity: p.severity,
    message: p.message,
    where: p.location[0]?.pointer ?? "",
  }));
};

const spectral = async (file: string): Promise<Problem[]> => {
  const text = await output([
    binOf("@stoplight/spectral-cli", "spectral"),
    "lint",
    file,
    "--ruleset",
    join(lintDir, "spectral.yaml"),
    "--format",
    "json",
    "--quiet",
  ]);
  const severities = ["error", "warning", "info", "hint"];
  const report = JSON.parse(text === "" ? "[]" : text) as {
    code: string;
    severity: number;
    message: string;
    path: string[];
  }[];
  return report.map((p) => ({
    rule: p.code,
    severity: severities[p.severity] ?? String(p.severity),
    message: p.message,
    where: p.path.join("."),
  }));
};

// Errors and warnings; hints and infos are suggestions.
const serious = (p: Problem) => p.severity !== "info" && p.severity !== "hint";

describe("the served OpenAPI document", () => {
  it("passes redocly's recommended rules without an error or a warning", async () => {
    const problems = (await lint(redocly)).filter(serious);
    expect(problems).toEqual([]);
  });

  it("passes Spectral's OpenAPI rules without an error or a warning", async () => {
    const problems = (await lint(spectral)).filter(serious);
    expect(problems).toEqual([]);
  });
});
