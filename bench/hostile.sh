#!/usr/bin/env bash
# Hostile load: builds the server, starts it on the embedded default (an
# empty SQLite database and the in-process cache) or on PostgreSQL + Redis,
# and runs bench/hostile against it: for each attack of the hostile-input
# issue, the server's CPU seconds, its peak RSS growth and the answer (with
# the attack's own figures; on redis, the CPU of its PostgreSQL backends
# and the memory and commands of the Redis database, which should hold
# nothing else).
# Usage: [SEED=demo] bench/hostile.sh [memory|redis] [git-rev] [hostile flags, e.g. -run APQ]
# (a rev measures an older build, for "before" figures; SEED=demo loads the demo data first, which the
# attacks of issue 18 need: a few minutes; PORT, default 18090, is where the server listens; REDIS_URL,
# default redis://127.0.0.1:6379/0, the redis backend's Redis)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-memory}
rev=${2:-}
port=${PORT:-18090}
dir=$(mktemp -d)
. bench/build.sh
trap 'kill $(jobs -p) 2>/dev/null || true; cleanup_build "$dir"' EXIT

build_server "$dir" "$rev"
go build -o "$dir/hostile" ./bench/hostile
measure=() # what the tool reads of the server beyond its process
env=(ADDR=127.0.0.1:$port ADMIN_TOKEN=bench SCRAPE_SCHEDULE=off LOG_LEVEL=error DATABASE_URL="sqlite:$dir/kp.db" SEED=${SEED:-none})
if [ "$backend" = redis ]; then
  db="kp_hostile_$RANDOM"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" >/dev/null
  redis=${REDIS_URL:-redis://127.0.0.1:6379/0}
  measure=(-redis "$redis" -pg "$db")
  env+=(DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" REDIS_URL="$redis" CACHE_PREFIX="kphostile$RANDOM:")
fi
ulimit -n 65536 2>/dev/null || true
env "${env[@]}" "$dir/api" 2>"$dir/api.log" &
pid=$!
for _ in $(seq 1200); do curl -sf localhost:$port/healthz >/dev/null && break; sleep 0.5; done
echo "== $backend${rev:+ at $rev}"
"$dir/hostile" -url http://127.0.0.1:$port/graphql -pid "$pid" "${measure[@]}" "${@:3}"
kill "$pid"; wait "$pid" 2>/dev/null || true
if [ "$backend" = redis ]; then psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE $db" >/dev/null; fi
