// What proto/README.md tells a @grpc/grpc-js + @grpc/proto-loader user, checked: with exactly the include paths
// it documents, every file of the module loads, and proto-loader sees every service, method, message, field and
// enum value that the generated code (built by buf from the same files) has.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DescFile } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import type { PackageDefinition } from "@grpc/proto-loader";
import { loadSync } from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The `includeDirs` of proto/README.md's example, relative to the repository root. */
function documentedIncludeDirs(): string[] {
  const readme = readFileSync(join(root, "proto/README.md"), "utf8");
  const found = /includeDirs: (\[[^\]]*\])/.exec(readme)?.[1];
  if (found === undefined) throw new Error("proto/README.md shows no includeDirs");
  const dirs: unknown = JSON.parse(found);
  if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === "string")) {
    throw new Error(`proto/README.md's includeDirs is not a list of strings: ${found}`);
  }
  return dirs;
}

/** Every .proto file of the module, as the import path proto-loader is given ("fintech/fx/v1/fx.proto"). */
const protoFiles = readdirSync(join(root, "proto/fintech"), { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".proto"))
  .map((f) => `fintech/${f.split("\\").join("/")}`)
  .sort();

const load = (includeDirs: string[]): PackageDefinition =>
  loadSync([...protoFiles, "google/rpc/status.proto", "google/rpc/error_details.proto"], {
    includeDirs: includeDirs.map((dir) => resolve(root, dir)),
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });

/** The generated descriptor of a .proto file ("fintech/fx/v1/fx.proto" -> gen/fintech/fx/v1/fx_pb.ts). */
async function generated(protoFile: string): Promise<DescFile> {
  const module: Record<string, unknown> = await import(`./gen/${protoFile.replace(/\.proto$/, "_pb.js")}`);
  const file = Object.entries(module).find(([name]) => name.startsWith("file_"))?.[1];
  if (file === undefined) throw new Error(`no file descriptor generated for ${protoFile}`);
  return file as DescFile;
}

/** The parts of a proto-loader definition compared here. */
interface LoadedMessage {
  type: { field: { name: string; number: number }[] };
}
interface LoadedEnum {
  type: { value: { name: string; number: number }[] };
}
interface LoadedMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: LoadedMessage;
  responseType: LoadedMessage;
}

describe("@grpc/proto-loader with the include paths proto/README.md documents", () => {
  const includeDirs = documentedIncludeDirs();

  it("are the module and the google-proto-files package, and both are needed", () => {
    expect(includeDirs).toEqual(["proto", "node_modules/google-proto-files"]);
    expect(protoFiles).toContain("fintech/fx/v1/fx.proto");
    expect(() => load(includeDirs.slice(0, 1))).toThrow(/google\/api\/annotations\.proto/);
  });

  it("loads every file with every service, method, message, field and enum value buf generated", async () => {
    const definition = load(includeDirs);
    let services = 0;
    for (const protoFile of protoFiles) {
      for (const desc of nestedTypes(await generated(protoFile))) {
        const loaded = definition[desc.typeName];
        switch (desc.kind) {
          case "service": {
            services++;
            const methods = loaded as Record<string, LoadedMethod> | undefined;
            expect(Object.keys(methods ?? {}).sort(), desc.typeName).toEqual(
              desc.methods.map((m) => m.name).sort(),
            );
            for (const method of desc.methods) {
              const got = methods?.[method.name];
              expect(got?.path).toBe(`/${desc.typeName}/${method.name}`);
              expect([got?.requestStream, got?.responseStream], method.name).toEqual([
                method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
                method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
              ]);
              expect(got?.requestType.type, method.name).toEqual(
                (definition[method.input.typeName] as LoadedMessage | undefined)?.type,
              );
              expect(got?.responseType.type, method.name).toEqual(
                (definition[method.output.typeName] as LoadedMessage | undefined)?.type,
              );
            }
            break;
          }
          case "message":
            expect(
              (loaded as LoadedMessage | undefined)?.type.field.map((f) => [f.name, f.number]),
              desc.typeName,
            ).toEqual(desc.fields.map((f) => [f.name, f.number]));
            break;
          case "enum":
            expect(
              (loaded as LoadedEnum | undefined)?.type.value.map((v) => [v.name, v.number]),
              desc.typeName,
            ).toEqual(desc.values.map((v) => [v.name, v.number]));
            break;
          case "extension":
            break;
        }
      }
    }
    expect(services).toBeGreaterThanOrEqual(7);
    for (const detail of ["google.rpc.Status", "google.rpc.ErrorInfo", "google.rpc.BadRequest"]) {
      expect(definition[detail], detail).toBeDefined();
    }
  });
});
