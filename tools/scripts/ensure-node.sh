# shellcheck shell=bash
# Puts Node 24 first on PATH. Uses the machine's node when it is already 24, else a copy
# installed from the npm registry's `node` package into .tooling/ (git-ignored).
NODE_MAJOR=24

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null && [ "$(node_major node)" = "$NODE_MAJOR" ]; then return; fi
  local local_bin="$ROOT/.tooling/node_modules/node/bin"
  if [ ! -x "$local_bin/node" ] || [ "$(node_major "$local_bin/node")" != "$NODE_MAJOR" ]; then
    if ! command -v npm >/dev/null; then
      echo "Node.js $NODE_MAJOR is needed: install Node.js (any version with npm) or Node.js $NODE_MAJOR itself, then run this again." >&2
      exit 1
    fi
    echo "Installing Node.js $NODE_MAJOR into .tooling/ ..." >&2
    mkdir -p "$ROOT/.tooling"
    npm install --prefix "$ROOT/.tooling" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR" >&2
  fi
  export PATH="$local_bin:$PATH"
}

# Installs dependencies when node_modules is missing or older than the lockfile.
ensure_deps() {
  local stamp="$ROOT/node_modules/.install-stamp"
  if [ ! -f "$stamp" ] || [ "$ROOT/package-lock.json" -nt "$stamp" ]; then
    echo "Installing dependencies ..." >&2
    # A registry mirror that lacks another platform's optional binaries (biome, nx, buf ship one
    # package per platform) leaves them out of the lockfile, and npm ci then refuses it as out of
    # sync; npm install still installs exactly the locked versions for this platform.
    npm ci --no-audit --no-fund --loglevel=error >&2 2>/dev/null ||
      npm install --no-audit --no-fund --loglevel=error >&2
    touch "$stamp"
  fi
}
