#!/usr/bin/env bash
# The proto checks CI runs: buf lint, regenerate and fail on any difference from the committed
# generated code, and buf breaking against main (PROTO_BREAKING_AGAINST to compare with another ref).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="$ROOT/node_modules/.bin/buf"
GEN="libs/proto/src/gen"
cd "$ROOT"

node tools/scripts/vendor-protos.mjs
(cd proto && "$BUF" lint && "$BUF" generate)

if ! git diff --quiet -- "$GEN" || [ -n "$(git status --porcelain -- "$GEN")" ]; then
  echo "Generated code in $GEN differs from proto/: run 'npm run generate' and commit the result." >&2
  git status --short -- "$GEN" >&2
  exit 1
fi

against="${PROTO_BREAKING_AGAINST:-main}"
if ! git rev-parse -q --verify "$against^{commit}" >/dev/null; then
  echo "buf breaking: no '$against' to compare against, skipped"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git archive "$against" proto | tar -x -C "$tmp"
if [ ! -f "$tmp/proto/buf.yaml" ]; then
  echo "buf breaking: '$against' has no proto module yet, skipped"
  exit 0
fi
# The third-party protos are not in git: give the old module the same ones.
cp -r proto/third_party "$tmp/proto/"
(cd proto && "$BUF" breaking --against "$tmp/proto")
echo "buf lint, generated-code drift and buf breaking against $against: ok"
