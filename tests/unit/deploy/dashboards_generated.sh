#!/usr/bin/env bash
# The committed dashboards are exactly what make_dashboards.py writes: edit the script, not the
# JSON, and run it.
set -euo pipefail
root="$1"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cp -r "$root/deploy/grafana" "$out/"
/usr/bin/python3 "$out/grafana/make_dashboards.py"
diff -r "$root/deploy/grafana/dashboards" "$out/grafana/dashboards" || {
  echo "deploy/grafana/dashboards differs from what make_dashboards.py writes"; exit 1; }
