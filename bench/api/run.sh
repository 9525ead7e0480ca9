#!/usr/bin/env bash
# Deployment API benchmarks (bench/README.md, "Deployment API"); one line per result, each
# followed by the load average at the time (`load=1min/5min/15min`).
#
# usage: run.sh <orchestrator> <openstack-sim> <ceiling> [seconds] [deployments]
#
# Uses the dev PostgreSQL (`./dev db url`), in databases of its own that it drops at the end.
# 1. api.get_deployment / api.ceiling / api.get_ratio: GET /deployments/{id} of one COMPLETED
#    deployment through `orchestrator serve` (API key, JSON access log, metrics, rate limit)
#    against the bare Beast server answering a body of the same size with as many threads,
#    under the same wrk settings, alternating, ROUNDS times.
# 2. api.scale*: `deployments` COMPLETED deployments cloned in SQL from the one of step 1, then
#    a fresh orchestrator on them: RSS after start and after the load, GET of random ids, and
#    `GET /deployments?status=COMPLETED&limit=50` (first page, random offsets, random `after`).
# 3. api.post_deployments: POST /deployments with unique names from a stored template, against
#    a simulator with large quotas whose servers take BOOT_TIME to boot.
#
# Environment: WRK_THREADS (1), WRK_CONNECTIONS (16, steps 1 and 3), SCALE_CONNECTIONS (4),
# LIST_CONNECTIONS (2), ROUNDS (2), API_WORKERS (2), BOOT_TIME (uniform:30s..90s), PHASES
# (get,scale,post: which steps run; scale needs get).
set -euo pipefail
orch_bin=${1:?usage: run.sh <orchestrator> <openstack-sim> <ceiling> [seconds] [deployments]}
sim_bin=${2:?usage: run.sh <orchestrator> <openstack-sim> <ceiling> [seconds] [deployments]}
ceiling_bin=${3:?usage: run.sh <orchestrator> <openstack-sim> <ceiling> [seconds] [deployments]}
seconds=${4:-10}
scale=${5:-100000}
wrk_threads=${WRK_THREADS:-1}
wrk_connections=${WRK_CONNECTIONS:-16}
scale_connections=${SCALE_CONNECTIONS:-4}
list_connections=${LIST_CONNECTIONS:-2}
rounds=${ROUNDS:-2}
api_workers=${API_WORKERS:-2}
boot_time=${BOOT_TIME:-uniform:30s..90s}
phases=${PHASES:-get,scale,post}

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/orch-bench-api.XXXXXX)
admin_url=$("$root/dev" db url)
prefix="bench_api_$$"
databases=()
pids=()

log() { printf 'bench/api: %s\n' "$*" >&2; }

cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in "${databases[@]}"; do
    psql "$admin_url" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [[ "${KEEP_WORK:-0}" = 1 ]]; then log "logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

load() { awk '{printf "%s/%s/%s", $1, $2, $3}' /proc/loadavg; }
emit() { while IFS= read -r line; do echo "$line load=$(load)"; done; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
db_url() { echo "${admin_url%/*}/$1"; }

# new_database <suffix>: sets `url`. Not through $(...): the cleanup needs `databases`.
new_database() {
  local name="${prefix}_$1"
  psql "$admin_url" -qc "CREATE DATABASE $name" >/dev/null
  databases+=("$name")
  url=$(db_url "$name")
}

# start_sim <name> <flags...>: sets `sim` to the base URL. Not through $(...): the cleanup
# needs `pids`.
start_sim() {
  local name=$1
  shift
  "$sim_bin" --host 127.0.0.1 --port 0 "$@" >"$work/$name.url" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 100); do [[ -s "$work/$name.url" ]] && break; sleep 0.05; done
  [[ -s "$work/$name.url" ]] || { cat "$work/$name.log" >&2; exit 1; }
  sim=$(head -1 "$work/$name.url")
}

# orch_env <database url> <sim url>: the settings of one node.
orch_env() {
  echo PATH=/usr/bin:/bin DATABASE_URL="$1" API_HOST=127.0.0.1 API_WORKERS="$api_workers" \
    API_KEYS=bench-write:write,bench-read:read SECRET_KEY=bench-secret-key-0123456789 \
    LOG_FORMAT=json LOG_LEVEL=info RATE_LIMIT_PER_MINUTE=1000000 \
    OPENSTACK_AUTH_URL="$2/identity/v3" OPENSTACK_USERNAME=admin OPENSTACK_PASSWORD=secret \
    OPENSTACK_PROJECT_NAME=admin
}

# start_orch <name> <database url> <sim url>: sets orch_pid and api.
start_orch() {
  local name=$1 port
  port=$(free_port)
  # shellcheck disable=SC2046
  env -i $(orch_env "$2" "$3") API_PORT="$port" "$orch_bin" serve >"$work/$name.log" 2>&1 &
  orch_pid=$!
  pids+=("$orch_pid")
  api="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    grep -qs '"listening on' "$work/$name.log" && return 0
    kill -0 "$orch_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$work/$name.log" >&2
  exit 1
}

# stop <pid>: SIGTERM, and SIGKILL after 30 s (a node with thousands of deployments in flight
# may take longer to drain).
stop() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

call() { # call <method> <path> [curl args...]: prints the body, fails on >= 400
  local method=$1 path=$2
  shift 2
  curl -fsS -X "$method" "$api$path" -H 'X-API-Key: bench-write' "$@"
}

wrk_run() { # wrk_run <connections> <seconds> <script> <url>
  wrk -t"$wrk_threads" -c"$1" -d"$2s" -s "$3" "$4" | grep '^api\.' | emit
}

phase() { [[ ",$phases," = *",$1,"* ]]; }

# node_with_template <name> <sim url>: a fresh database, an orchestrator on it (`api`,
# `orch_pid`) and the example template stored.
node_with_template() {
  new_database "$1"
  start_orch "orch-$1" "$url" "$2"
  call POST /templates -H 'Content-Type: application/json' \
    --data @"$root/examples/web-app-stack.json" >/dev/null
}

# -- 1. GET /deployments/{id} against the ceiling ---------------------------------------------
if phase get; then
log "1/3 GET /deployments/{id} vs. a bare Beast server ($api_workers threads each)"
start_sim sim-a --workers 2
sim_a=$sim
node_with_template get "$sim_a"
get_db=$url
src=$(call POST /deployments -H 'Content-Type: application/json' \
  -d '{"name":"bench-src","template":"web-app-stack","cloud_region":"RegionOne"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 300); do
  status=$(call GET "/deployments/$src" | python3 -c 'import json, sys; print(json.load(sys.stdin)["status"])')
  [[ "$status" = COMPLETED ]] && break
  sleep 0.2
done
[[ "$status" = COMPLETED ]] || { log "bench-src is $status, not COMPLETED"; exit 1; }
call GET "/deployments/$src" >"$work/body.json"
"$ceiling_bin" --body-file "$work/body.json" --threads "$api_workers" >"$work/ceiling.url" &
pids+=($!)
for _ in $(seq 1 100); do [[ -s "$work/ceiling.url" ]] && break; sleep 0.05; done
ceiling=$(head -1 "$work/ceiling.url")
export API_KEY=bench-read API_PATH="/deployments/$src"
echo "api.get_body bytes=$(wc -c <"$work/body.json")"
# Warm-up: connections, prepared statements, caches.
wrk -t1 -c4 -d2s "$ceiling/" >/dev/null
wrk -t1 -c4 -d2s -H 'X-API-Key: bench-read' "$api$API_PATH" >/dev/null
sum_orch=0
sum_ceiling=0
for round in $(seq 1 "$rounds"); do
  line=$(BENCH_NAME=api.ceiling wrk_run "$wrk_connections" "$seconds" "$here/get.lua" "$ceiling")
  echo "$line round=$round"
  sum_ceiling=$((sum_ceiling + $(sed -E 's/.* rps=([0-9]+).*/\1/' <<<"$line")))
  line=$(BENCH_NAME=api.get_deployment wrk_run "$wrk_connections" "$seconds" "$here/get.lua" "$api")
  echo "$line round=$round"
  sum_orch=$((sum_orch + $(sed -E 's/.* rps=([0-9]+).*/\1/' <<<"$line")))
done
python3 -c "print(f'api.get_ratio ratio={$sum_orch / $sum_ceiling:.2f} rounds=$rounds')" | emit
unset API_PATH
stop "$orch_pid"
fi

# -- 2. 100,000 COMPLETED deployments ---------------------------------------------------------
if phase scale; then
log "2/3 $scale COMPLETED deployments"
new_database scale
scale_db=$url
# shellcheck disable=SC2046
env -i $(orch_env "$scale_db" "$sim_a") "$orch_bin" migrate >"$work/migrate.log" 2>&1
for table in deployment_templates deployments deployment_snapshots deployment_events; do
  psql "$get_db" -qc "\\copy $table TO '$work/$table.copy'"
  psql "$scale_db" -qc "\\copy $table FROM '$work/$table.copy'"
done
started=$(date +%s.%N)
psql "$scale_db" -q -v n="$scale" -v src="$src" -f "$here/seed.sql"
# What autovacuum would have done by now: marks the pages all-visible (index-only scans).
psql "$scale_db" -qc 'VACUUM (ANALYZE) deployments'
python3 -c "import time; print(f'api.seed deployments=$scale seconds={time.time() - $started:.0f}')" | emit
psql "$scale_db" -Atc "SELECT id FROM deployments WHERE name LIKE 'scale-%'" >"$work/ids"
start_orch orch-scale "$scale_db" "$sim_a"
sleep 2
echo "api.scale deployments=$scale rss_kb=$(rss_kb "$orch_pid") phase=start" | emit
export API_KEY=bench-read IDS_FILE="$work/ids" TOTAL="$scale"
wrk -t1 -c2 -d2s -s "$here/get_random.lua" "$api" >/dev/null
BENCH_NAME=api.scale_get wrk_run "$scale_connections" "$seconds" "$here/get_random.lua" "$api" \
  | sed "s/\$/ connections=$scale_connections/"
API_PATH="/deployments?status=COMPLETED&limit=50" BENCH_NAME=api.scale_list \
  wrk_run "$list_connections" "$seconds" "$here/get.lua" "$api" \
  | sed "s/\$/ connections=$list_connections/"
MODE=offset BENCH_NAME=api.scale_list_offset \
  wrk_run "$list_connections" "$seconds" "$here/list_random.lua" "$api" \
  | sed "s/\$/ connections=$list_connections/"
MODE=after BENCH_NAME=api.scale_list_after \
  wrk_run "$list_connections" "$seconds" "$here/list_random.lua" "$api" \
  | sed "s/\$/ connections=$list_connections/"
echo "api.scale deployments=$scale rss_kb=$(rss_kb "$orch_pid") phase=after_load" | emit
stop "$orch_pid"
fi

# -- 3. POST /deployments ---------------------------------------------------------------------
if phase post; then
log "3/3 POST /deployments (simulator boot time $boot_time)"
start_sim sim-b --workers 2 --boot-time "$boot_time" --quota-instances 10000000 \
  --quota-cores 100000000 --quota-ram 1000000000 --quota-volumes 10000000 \
  --quota-gigabytes 1000000000 --quota-networks 10000000
node_with_template post "$sim"
export API_KEY=bench-write RUN_ID
RUN_ID=$(date +%s)
wrk_run "$wrk_connections" "$seconds" "$here/post.lua" "$api"
echo "api.post_deployments rss_kb=$(rss_kb "$orch_pid") phase=after_load" | emit
stop "$orch_pid"
fi
