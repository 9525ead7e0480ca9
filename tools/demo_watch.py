#!/usr/bin/env python3
"""Follows one deployment for ./dev demo: prints each event of its history as it happens and
returns when the deployment is COMPLETED (exit 0) or FAILED (exit 1)."""
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


def describe(event):
    data = event.get("data") or {}
    kind = event["type"]
    if kind == "status_changed":
        return f"status {data.get('from', '?')} -> {data.get('to', '?')}"
    if kind == "intent":
        return f"intent            {data.get('action', '')} {data.get('kind', '')} {data.get('cloud_name', '')}"
    if kind in ("resource_created", "resource_ready", "resource_deleted"):
        name = data.get("logical_name") or data.get("name") or ""
        return f"{kind:<17} {name} {data.get('id', '')}".rstrip()
    if kind == "operation_started":
        return f"operation_started {data.get('type', '')}"
    if kind == "operation_finished":
        return f"operation_finished {data.get('status', '')} {json.dumps(data.get('error'))}"
    return f"{kind:<17} {json.dumps(data, separators=(',', ':'))[:100]}"


seen = 0
deadline = time.time() + timeout
while time.time() < deadline:
    for event in get(f"/deployments/{dep_id}/events?after={seen}"):
        seen = max(seen, event["seq"])
        print(f"  [{event['seq']:>3}] {event['at']}  {describe(event)}", flush=True)
    status = get(f"/deployments/{dep_id}")["status"]
    if status in ("COMPLETED", "FAILED"):
        record = get(f"/deployments/{dep_id}")
        vms = record["resources"].get("vms", [])
        print(f"\n{record['name']}: {status}, {len(vms)} VMs")
        for vm in vms:
            print(f"  {vm['name']:<24} {vm['status']:<8} {', '.join(vm.get('addresses', []))}")
        if status == "FAILED":
            print("error:", json.dumps(record["operation"].get("error")))
        sys.exit(0 if status == "COMPLETED" else 1)
    time.sleep(0.5)
print("timed out waiting for the deployment", file=sys.stderr)
sys.exit(1)
