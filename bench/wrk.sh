#!/usr/bin/env bash
# Load test of the hot path. Runs four workloads against the API and, for
# each of Q1-Q3, a static Go server returning the same bytes, in the same
# run, and prints each as a ratio to static:
#   Q1 properties(first: 50) with nested destinations (one body, ~11 KB)
#   Q2 topDestinations(limit: 10) + sentimentSummary
#   Q3 destination(id) { properties(first: 10) sentiment(LAST_30_DAYS) }, 200 ids cycling
#   Q4 Q3 with 1 % updateProperty; bench/stale checks a read 250 ms after a
#      write meanwhile and reports the response level's hit ratio
#   Q6 properties(first: 50, filter: {maxPrice: $p}) with destinations, $p
#      new on every request and above every price: the same answer, but a
#      whole-response miss and a list miss each time (one SQL for the ids,
#      every entity entry cached)
# Q5 is Q1 with RESPONSE_CACHE=off (every field entry cached, the response
# level missed); the compiled read path is on unless PLAN=off.
# Needs wrk (apt-get install wrk).
# Usage: bench/wrk.sh [memory|redis] [git-rev]
#   redis uses REDIS_URL (default local); a rev measures an older build.
#   DURATION (default 10s) per run, ROUNDS (default 2) interleaved rounds
#   averaged, RESPONSE_CACHE=off measures the warm field level alone,
#   PROFILE=1 prints the top of a 5 s CPU profile taken during Q1, and on
#   redis SCALE=2 adds a second server process sharing the database and
#   Redis and sends Q3 to both at once. On redis each run also reports the
#   Redis commands it cost per request (INFO total_commands_processed).
#   PORT (default 18080) moves every port the run listens on.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-memory}
rev=${2:-}
duration=${DURATION:-10s}
rounds=${ROUNDS:-2}
port=${PORT:-18080} # the API; static, a second API and pprof on the next ports (+1, +2, +10)
dir=$(mktemp -d)
. bench/build.sh
trap 'kill $(jobs -p) 2>/dev/null || true; cleanup_build "$dir"' EXIT

build_server "$dir" "$rev"
go build -o "$dir/static" ./bench/static
go build -o "$dir/stale" ./bench/stale
api=http://127.0.0.1:$((port))
env=(ADDR=127.0.0.1:$((port)) ADMIN_TOKEN=bench SCRAPE_SCHEDULE=off LOG_LEVEL=warn DATABASE_URL="sqlite:$dir/kp.db" SEED=demo PPROF_ADDR=127.0.0.1:$((port + 10)))
prefix="kpbench$RANDOM:"
if [ "$backend" = redis ]; then env+=(REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0} CACHE_PREFIX="$prefix"); fi
if [ "${RESPONSE_CACHE:-on}" = off ]; then env+=(RESPONSE_CACHE=off); fi
env "${env[@]}" "$dir/api" 2>"$dir/api.log" &
for _ in $(seq 180); do curl -sf $api/healthz >/dev/null && break; sleep 1; done

q1='{ properties(first: 50) { totalCount edges { cursor node { id title description price location createdAt destination { id name city category sentiment { total averageScore } } } } } }'
q2='{ topDestinations(limit: 10) { rank mentions averageScore destination { id name city } } sentimentSummary { total positive neutral negative averageScore } }'
q6='query Q($p: Decimal) { properties(first: 50, filter: {maxPrice: $p}) { totalCount edges { cursor node { id title description price location createdAt destination { id name city category sentiment { total averageScore } } } } } }'
q3='query Q($id: ID) { destination(id: $id) { id name city properties(first: 10) { id title price } sentiment(range: LAST_30_DAYS) { total positive negative averageScore } } }'

# post.lua NAME QUERY [writes]: a wrk script POSTing QUERY; Q3's cycle the
# destination id over 1..200, and with writes every 100th request is an
# updateProperty (property ids cycling, admin token).
lua() {
  local name=$1 query=$2 writes=${3:-0}
  cat >"$dir/$name.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local query = '$query'
local n = 0
request = function()
  n = n + 1
  if $writes == 1 and n % 100 == 0 then
    local body = '{"query":"mutation(\$id: ID!, \$p: Decimal) { updateProperty(id: \$id, input: {price: \$p}) { id } }","variables":{"id":"' .. (n * 7919 % 20000 + 1) .. '","p":"' .. (1000 + n % 9000) .. '.50"}}'
    return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench"}, body)
  end
  if string.find(query, "\$p") then
    return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","variables":{"p":"' .. (100000000 + n) .. '"}}')
  end
  if string.find(query, "\$id") then
    return wrk.format(nil, nil, nil, '{"query":"' .. query .. '","variables":{"id":"' .. (n % 200 + 1) .. '"}}')
  end
  return wrk.format(nil, nil, nil, '{"query":"' .. query .. '"}')
end
LUA
}
lua q1 "$q1"; lua q2 "$q2"; lua q3 "$q3"; lua q4 "$q3" 1; lua q6 "$q6"

# rps URL [SCRIPT]: req/s of a wrk run; on Redis, also the Redis commands
# it cost per request (INFO total_commands_processed), in $dir/cmds.
rps() {
  local c0 out="$dir/run.$BASHPID.txt"; c0=$(redis_cmds)
  wrk -t${THREADS:-2} -c${CONNS:-32} -d"$duration" -s "${2:-/dev/null}" "$1" >"$out"
  cat "$out" >>"$dir/wrk.log"
  local n; n=$(awk '/requests in/ {print $1}' "$out")
  awk -v a="$c0" -v b="$(redis_cmds)" -v n="$n" 'BEGIN {if (a != "" && n > 0) printf "%.1f", (b-a)/n}' >"$dir/cmds"
  awk '/Requests\/sec/ {print $2}' "$out"
}
redis_cmds() {
  [ "$backend" = redis ] || return 0
  redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" info stats | awk -F: '/^total_commands_processed/ {print $2}' | tr -d '\r'
}
body() { curl -s $api/graphql -H 'Content-Type: application/json' -d "$1"; }

declare -A sum_api sum_static
for q in q1 q2 q3 q6; do
  case $q in
    q1) body "{\"query\":\"$q1\"}" >"$dir/$q.json" ;;
    q2) body "{\"query\":\"$q2\"}" >"$dir/$q.json" ;;
    q3) body "{\"query\":\"$q3\",\"variables\":{\"id\":\"1\"}}" >"$dir/$q.json" ;;
    q6) body "{\"query\":\"$q6\",\"variables\":{\"p\":\"99999999\"}}" >"$dir/$q.json" ;;
  esac
  if grep -q '"errors"' "$dir/$q.json"; then echo "$q failed: $(cat "$dir/$q.json")" >&2; exit 1; fi
  echo "$q: $(wc -c <"$dir/$q.json") bytes"
done
# Warm every Q3 id once, so the runs measure hits.
for i in $(seq 200); do body "{\"query\":\"$q3\",\"variables\":{\"id\":\"$i\"}}" >/dev/null; done
if [ "$backend" = redis ]; then # what the warm response entries take in Redis (MEMORY USAGE)
  redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" --scan --pattern "${prefix}e:response|*" |
    while read -r k; do redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" memory usage "$k"; done |
    awk '{s += $1; n++} END {printf "Redis: %d response entries take %d bytes\n", n, s}'
fi

for r in $(seq "$rounds"); do
  for q in q1 q2 q3 q6; do
    "$dir/static" -addr 127.0.0.1:$((port + 1)) -file "$dir/$q.json" & sp=$!
    sleep 0.5
    if [ "$q" = q1 ] && [ "$r" = 1 ] && [ "${PROFILE:-0}" = 1 ]; then
      (sleep 2; curl -s -o "$dir/cpu.pprof" "http://127.0.0.1:$((port + 10))/debug/pprof/profile?seconds=5") &
    fi
    a=$(rps $api/graphql "$dir/$q.lua"); cmds=$(cat "$dir/cmds"); s=$(rps http://127.0.0.1:$((port + 1))/)
    kill $sp; wait $sp 2>/dev/null || true
    sum_api[$q]=$(awk -v x="${sum_api[$q]:-0}" -v y="$a" 'BEGIN {print x+y}')
    sum_static[$q]=$(awk -v x="${sum_static[$q]:-0}" -v y="$s" 'BEGIN {print x+y}')
    echo "round $r $q: API $a req/s, static $s req/s${cmds:+, $cmds Redis commands per request}"
  done
  "$dir/stale" -url $api/graphql -duration "$duration" >"$dir/stale.$r" & st=$!
  a=$(rps $api/graphql "$dir/q4.lua")
  wait $st || echo "STALE READS (see above)"
  cat "$dir/stale.$r"
  sum_api[q4]=$(awk -v x="${sum_api[q4]:-0}" -v y="$a" 'BEGIN {print x+y}')
  echo "round $r q4: API $a req/s"
done

echo "== $backend, response level ${RESPONSE_CACHE:-on}, plan ${PLAN:-on}, ${rev:-working tree}, mean of $rounds rounds of $duration"
for q in q1 q2 q3 q6; do
  awk -v q=$q -v a="${sum_api[$q]}" -v s="${sum_static[$q]}" -v n="$rounds" \
    'BEGIN {printf "%s: API %.0f req/s, static %.0f req/s: %.1f%% of static\n", q, a/n, s/n, 100*a/s}'
done
awk -v a="${sum_api[q4]}" -v b="${sum_api[q3]}" -v n="$rounds" \
  'BEGIN {printf "q4: API %.0f req/s: %.1f%% of q3\n", a/n, 100*a/b}'
# Scale out: a second process on the same database and Redis, Q3 sent to
# both at once (each wrk half the threads and connections); the aggregate,
# the response level's hit ratio and Redis commands per request.
if [ "$backend" = redis ] && [ "${SCALE:-1}" = 2 ]; then
  env "${env[@]}" ADDR=127.0.0.1:$((port + 2)) PPROF_ADDR= SEED=none "$dir/api" 2>"$dir/api2.log" &
  for _ in $(seq 60); do curl -sf http://127.0.0.1:$((port + 2))/healthz >/dev/null && break; sleep 1; done
  stats() { curl -s $api/graphql -H 'Content-Type: application/json' -H 'Authorization: Bearer bench' \
    -d '{"query":"{ cacheStats { responses { hits misses } } }"}' | tr -dc '0-9,' ; }
  s0=$(stats); c0=$(redis_cmds)
  THREADS=1 CONNS=16 rps $api/graphql "$dir/q3.lua" >"$dir/p1" & p1=$!
  THREADS=1 CONNS=16 rps http://127.0.0.1:$((port + 2))/graphql "$dir/q3.lua" >"$dir/p2"
  wait $p1
  s1=$(stats); c1=$(redis_cmds)
  awk -v a="$(cat "$dir/p1")" -v b="$(cat "$dir/p2")" -v s0="$s0" -v s1="$s1" -v c0="$c0" -v c1="$c1" -v d="${duration%s}" 'BEGIN {
    split(s0, x, ","); split(s1, y, ","); h = y[1]-x[1]; m = y[2]-x[2]
    printf "two processes, q3: %.0f + %.0f = %.0f req/s; response hit ratio %.1f%%; %.1f Redis commands per request\n", a, b, a+b, 100*h/(h+m), (c1-c0)/((a+b)*d) }'
fi
if [ -s "$dir/cpu.pprof" ]; then
  echo "== CPU profile during Q1 (top 25 by cumulative... flat)"
  go tool pprof -top -nodecount=25 "$dir/api" "$dir/cpu.pprof" 2>/dev/null | sed -n 1,32p
fi
