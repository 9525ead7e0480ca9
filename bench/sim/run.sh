#!/usr/bin/env bash
# Simulator benchmarks; one line per result. Usage: run.sh <openstack-sim> [servers] [seconds]
# - sim.get_server: GET /servers/{id} with keep-alive (wrk, 1 thread, 8 connections)
# - sim.rss: resident memory after creating 0, 1000 and N servers (flat = little per server)
set -euo pipefail
sim_bin=${1:?usage: run.sh <openstack-sim> [servers] [seconds]}
servers=${2:-10000}
seconds=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$sim_bin" --port 0 --workers 2 --quota-instances 1000000 --quota-cores 100000000 \
  --quota-ram 1000000000 >"$work/url" &
pid=$!
for _ in $(seq 1 100); do [[ -s "$work/url" ]] && break; sleep 0.05; done
base=$(head -1 "$work/url")
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# Setup and mass creation through one keep-alive connection (Python's http.client).
python3 - "$base" "$servers" "$work" "$pid" <<'PY'
import http.client, json, sys, urllib.parse
base, count, work, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
u = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(u.hostname, u.port)
def call(method, path, body=None, token=None):
    h = {"Content-Type": "application/json", "OpenStack-API-Version": "compute 2.90"}
    if token: h["X-Auth-Token"] = token
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse(); data = r.read()
    return r, (json.loads(data) if data else None)
r, _ = call("POST", "/identity/v3/auth/tokens", {"auth": {"identity": {"methods": ["password"],
    "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "secret"}}}}})
token = r.getheader("X-Subject-Token")
_, net = call("POST", "/networking/v2.0/networks", {"network": {"name": "bench"}}, token)
net = net["network"]["id"]
call("POST", "/networking/v2.0/subnets", {"subnet": {"network_id": net, "ip_version": 4,
     "cidr": "10.0.0.0/16"}}, token)
_, img = call("GET", "/image/v2/images?name=cirros", None, token)
img = img["images"][0]["id"]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"): return int(line.split()[1])
first = None
print(f"sim.rss servers=0 rss_kb={rss()}")
for i in range(count):
    r, s = call("POST", "/compute/v2.1/servers", {"server": {"name": f"s-{i}", "flavorRef": "1",
        "imageRef": img, "networks": [{"uuid": net}]}}, token)
    assert r.status == 202, (r.status, s)
    first = first or s["server"]["id"]
    if i + 1 in (1000, count):
        print(f"sim.rss servers={i + 1} rss_kb={rss()}")
open(f"{work}/token", "w").write(token)
open(f"{work}/server", "w").write(first or "")
PY
SIM_TOKEN=$(cat "$work/token") SIM_SERVER=$(cat "$work/server") \
  wrk -t1 -c8 -d"${seconds}s" -s "$here/get_server.lua" "$base" | grep '^sim\.'
echo "sim.rss after_load rss_kb=$(rss)"
