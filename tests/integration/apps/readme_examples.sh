#!/usr/bin/env bash
# Runs the curl examples of README.md ("Using the API") against a real orchestrator and checks
# what they print, so the README never shows a command that does not work.
set -euo pipefail

orchestrator="$1"
root="$2"
: "${DATABASE_URL:?DATABASE_URL is not set: run the tests through ./dev test}"

work="$(mktemp -d)"
db="orch_readme_$$"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql "$DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
DATABASE_URL="${DATABASE_URL%/*}/$db" API_HOST=127.0.0.1 API_PORT="$port" \
  API_KEYS="demo-write-key:write,demo-read-key:read" SECRET_KEY="demo-secret-key-change-me" \
  "$orchestrator" serve >"$work/orchestrator.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

# The fenced bash blocks of the "Using the API" section, with the port of this run.
awk '/^## Using the API/{on=1; next} /^## /{on=0} on && /^```bash/{code=1; next} on && /^```/{code=0} on && code' \
  "$root/README.md" | sed "s#^API=http://127.0.0.1:8000#API=http://127.0.0.1:$port#" >"$work/examples.sh"
grep -q curl "$work/examples.sh" || { echo "no curl examples found in README.md"; exit 1; }

(cd "$root" && bash -euo pipefail "$work/examples.sh") >"$work/out.txt" 2>&1 || {
  cat "$work/out.txt"; echo "README examples failed"; exit 1; }

fail=0
expect() {
  if ! grep -qE "$1" "$work/out.txt"; then
    echo "expected /$1/ in the output of the README examples"
    fail=1
  fi
}
expect '"status":"ok"'
expect '"status":"ready"'
expect '"name":"my-stack"'
expect '"total":1'
expect '"limit":10'
expect '^204$'
expect 'api_request_duration_seconds_count\{endpoint="/templates"'
expect '"status":422'
expect '"field":"vm_config.Web'
if [ $fail = 1 ]; then
  cat "$work/out.txt"
  exit 1
fi
echo "README examples: all passed"
