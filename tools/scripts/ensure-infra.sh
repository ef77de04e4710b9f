# shellcheck shell=bash
# Starts Postgres, NATS (JetStream) and Redis when they are installed but not listening.
# Addresses come from the same variables the services read.
PG_PORT="${PGPORT:-5432}"
NATS_PORT="${NATS_PORT:-4222}"
REDIS_PORT="${REDIS_PORT:-6379}"

# For tests only: with a Docker engine and no server URLs set, a missing server is no failure, as
# the test setup (libs/testing) starts throwaway containers instead.
INFRA_CONTAINERS_OK="${INFRA_CONTAINERS_OK:-no}"

containers_instead() {
  [ "$INFRA_CONTAINERS_OK" = yes ] && [ -z "${DATABASE_URL:-}${NATS_URL:-}${REDIS_URL:-}" ] &&
    command -v docker >/dev/null && docker info >/dev/null 2>&1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name="$1" port="$2"
  for _ in $(seq 1 50); do listening "$port" && return 0; sleep 0.2; done
  echo "$name did not start on port $port" >&2
  return 1
}

ensure_postgres() {
  listening "$PG_PORT" && return
  containers_instead && return
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "Starting Postgres ..." >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  else
    echo "Postgres is not running on 127.0.0.1:$PG_PORT and is not installed: install PostgreSQL 15 or newer (Debian: apt-get install postgresql) or set DATABASE_URL." >&2
    exit 1
  fi
  wait_port Postgres "$PG_PORT"
}

ensure_nats() {
  listening "$NATS_PORT" && return
  containers_instead && return
  local bin
  bin="$(command -v nats-server || echo /usr/sbin/nats-server)"
  if [ -x "$bin" ]; then
    echo "Starting NATS with JetStream ..." >&2
    mkdir -p "$ROOT/.data/nats"
    "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$ROOT/.data/nats" -l "$ROOT/.data/nats.log" &
    disown
  else
    echo "NATS is not running on 127.0.0.1:$NATS_PORT and is not installed: install nats-server 2.9 or newer (Debian: apt-get install nats-server) or set NATS_URL." >&2
    exit 1
  fi
  wait_port NATS "$NATS_PORT"
}

ensure_redis() {
  listening "$REDIS_PORT" && return
  containers_instead && return
  if command -v redis-server >/dev/null; then
    echo "Starting Redis ..." >&2
    mkdir -p "$ROOT/.data"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir "$ROOT/.data" --logfile "$ROOT/.data/redis.log"
  else
    echo "Redis is not running on 127.0.0.1:$REDIS_PORT and is not installed: install Redis 7 (Debian: apt-get install redis-server) or set REDIS_URL." >&2
    exit 1
  fi
  wait_port Redis "$REDIS_PORT"
}

ensure_infra() {
  ensure_postgres
  ensure_nats
  ensure_redis
}
