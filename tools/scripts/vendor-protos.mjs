// Copies the third-party protos the platform imports from npm packages into proto/third_party/
// (git-ignored), which buf.yaml lists as a second module. No schema registry is needed.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "package.json"));
const pkg = (name) => dirname(require.resolve(`${name}/package.json`));
const out = join(root, "proto", "third_party");

const files = [
  [pkg("google-proto-files"), "google/api/annotations.proto", "google/api/annotations.proto"],
  [pkg("google-proto-files"), "google/api/http.proto", "google/api/http.proto"],
  [pkg("google-proto-files"), "google/rpc/status.proto", "google/rpc/status.proto"],
  [pkg("google-proto-files"), "google/rpc/code.proto", "google/rpc/code.proto"],
  [pkg("google-proto-files"), "google/rpc/error_details.proto", "google/rpc/error_details.proto"],
  [pkg("grpc-health-check"), "proto/health/v1/health.proto", "grpc/health/v1/health.proto"],
  [
    pkg("@grpc/reflection"),
    "build/proto/grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1/reflection.proto",
  ],
  // The pre-release name of the same service, which Postman and grpc_cli still ask for.
  [
    pkg("@grpc/reflection"),
    "build/proto/grpc/reflection/v1alpha/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
  ],
];

rmSync(out, { recursive: true, force: true });
for (const [from, src, dest] of files) {
  mkdirSync(dirname(join(out, dest)), { recursive: true });
  cpSync(join(from, src), join(out, dest));
}
