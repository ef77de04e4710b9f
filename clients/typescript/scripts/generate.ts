// Writes src/gen/api.ts from the OpenAPI document the gateway serves, built from the same descriptors without
// a running server. With --check it writes nothing and fails when the committed file differs (npm run check).
import { readFile, writeFile } from "node:fs/promises";
import { relative } from "node:path";
import { backends, buildOpenApi, deriveRoutes } from "@fintech/gateway";
import { GENERATED_FILE, renderTypes } from "./render-types.js";

// Every backend, as the gateway serves by default (BACKENDS lists them all).
const fresh = await renderTypes(buildOpenApi(deriveRoutes(backends)));
const shown = relative(process.cwd(), GENERATED_FILE);

if (process.argv.includes("--check")) {
  const committed = await readFile(GENERATED_FILE, "utf8").catch(() => "");
  if (committed !== fresh) {
    console.error(
      `${shown} differs from the gateway's OpenAPI document: run 'npm run generate -w @fintech/client' and commit the result.`,
    );
    process.exitCode = 1;
  } else {
    process.stdout.write(`${shown} matches the gateway's OpenAPI document\n`);
  }
} else {
  await writeFile(GENERATED_FILE, fresh);
  process.stdout.write(`wrote ${shown}\n`);
}
