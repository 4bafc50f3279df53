#!/usr/bin/env bash
# Load test of the hot path: a nested properties(first: 50) list served by
# the API (response cache hit) and the same bytes served by a static Go
# server, measured with wrk in the same run. Needs wrk (apt-get install wrk).
# Usage: bench/wrk.sh [memory|redis] [git-rev]   (redis uses REDIS_URL, default local;
# a rev measures an older build of the server, for before/after figures)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-memory}
rev=${2:-}
dir=$(mktemp -d)
. bench/build.sh
trap 'kill $(jobs -p) 2>/dev/null || true; cleanup_build "$dir"' EXIT

build_server "$dir" "$rev"
go build -o "$dir/static" ./bench/static
env=(ADDR=127.0.0.1:18080 ADMIN_TOKEN=bench SCRAPE_SCHEDULE=off LOG_LEVEL=warn DATABASE_URL="sqlite:$dir/kp.db" SEED=demo)
if [ "$backend" = redis ]; then env+=(REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0} CACHE_PREFIX="kpbench$RANDOM:"); fi
env "${env[@]}" "$dir/api" 2>"$dir/api.log" &
for _ in $(seq 120); do curl -sf localhost:18080/healthz >/dev/null && break; sleep 1; done

query='{"query":"{ properties(first: 50) { totalCount edges { cursor node { id title description price location createdAt destination { id name city category sentiment { total averageScore } } } } } }"}'
curl -s localhost:18080/graphql -H 'Content-Type: application/json' -d "$query" >"$dir/body.json"
echo "response: $(wc -c <"$dir/body.json") bytes; X-Cache on repeat: $(curl -s -o /dev/null -D - localhost:18080/graphql -H 'Content-Type: application/json' -d "$query" | grep -i x-cache | tr -d '\r')"
"$dir/static" -file "$dir/body.json" &
sleep 1

cat >"$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$query'
LUA
echo "== API ($backend cache), hot path"
wrk -t2 -c32 -d10s -s "$dir/post.lua" http://127.0.0.1:18080/graphql | tee "$dir/api.txt"
echo "== static server, same bytes"
wrk -t2 -c32 -d10s http://127.0.0.1:18081/ | tee "$dir/static.txt"
api=$(awk '/Requests\/sec/ {print $2}' "$dir/api.txt"); static=$(awk '/Requests\/sec/ {print $2}' "$dir/static.txt")
echo "API $api req/s, static $static req/s: $(awk -v a="$api" -v s="$static" 'BEGIN {printf "%.0f%%", 100*a/s}') of static"
