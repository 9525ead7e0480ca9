#!/usr/bin/env python3
"""Follows the configuration run of one deployment for ./dev demo: waits until the deployment
leaves CONFIGURING, then prints the newest run's per-host summary. Exit 0 if it succeeded."""
import json
import sys
import time
import urllib.request

api, key, dep_id = sys.argv[1], sys.argv[2], sys.argv[3]
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 600.0


def get(path):
    req = urllib.request.Request(api + path, headers={"X-API-Key": key})
    with urllib.request.urlopen(req, timeout=10) as res:
        return json.load(res)


deadline = time.monotonic() + timeout
while get(f"/deployments/{dep_id}")["status"] == "CONFIGURING":
    if time.monotonic() > deadline:
        print("still CONFIGURING after the timeout")
        sys.exit(1)
    time.sleep(1)

dep = get(f"/deployments/{dep_id}")
runs = get(f"/deployments/{dep_id}/configurations?limit=1")["items"]
if not runs:
    print("no configuration run recorded")
    sys.exit(1)
run = runs[0]
print(f"deployment {dep['status']}, run {run['id']} {run['status']} ({run['playbook']})")
print(f"  {'host':<16} {'ok':>4} {'changed':>8} {'failed':>7} {'unreachable':>12}")
for host, r in sorted(run["hosts"].items()):
    print(f"  {host:<16} {r['ok']:>4} {r['changed']:>8} {r['failed']:>7} {r['unreachable']:>12}")
if run.get("failed_task"):
    print(f"  failed: {run['failed_task']}")
sys.exit(0 if run["status"] == "succeeded" else 1)
