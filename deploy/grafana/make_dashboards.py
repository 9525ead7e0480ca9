#!/usr/bin/env python3
"""Writes the Grafana dashboards of dashboards/ (run it after editing a panel here).

Every panel query filters on `instance=~"$instance"` and uses `$__rate_interval`; the e2e test
tests/e2e/apps/dashboards_on_prometheus.py evaluates each one against a real Prometheus that
scraped a working node, so a query naming a metric the code does not export fails it.
"""
import json
import pathlib

DS = {"type": "prometheus", "uid": "${datasource}"}
I = 'instance=~"$instance"'
R = "$__rate_interval"
BUSY = "PENDING|IN_PROGRESS|UPDATING|CONFIGURING|SCALING|DELETING"


def panel(title, unit, *targets, kind="timeseries", description=""):
    return {"title": title, "unit": unit, "targets": targets, "kind": kind,
            "description": description}


def q(expr, legend=""):
    return {"expr": expr, "legend": legend}


def quantiles(metric, by, legend_by, extra=""):
    sel = I + (", " + extra if extra else "")
    return [q(f"histogram_quantile({p}, sum by (le, {by}) (rate({metric}_bucket{{{sel}}}[{R}])))",
              f"p{int(p * 100)} {{{{{legend_by}}}}}") for p in (0.5, 0.95, 0.99)]


DASHBOARDS = {
    "orch-api": ("orch / API", [
        panel("Requests per second by route", "reqps",
              q(f"sum by (endpoint, method) (rate(api_requests_total{{{I}}}[{R}]))",
                "{{method}} {{endpoint}}")),
        panel("5xx ratio", "percentunit",
              q(f'sum(rate(api_requests_total{{{I}, status=~"5.."}}[{R}]) or rate(api_requests_total{{{I}}}[{R}]) * 0)'
                f" / sum(rate(api_requests_total{{{I}}}[{R}]))", "5xx"),
              description="Share of requests answered 5xx; the OrchApiErrors alert fires above 5 %."),
        panel("Answers by status", "reqps",
              q(f"sum by (status) (rate(api_requests_total{{{I}}}[{R}]))", "{{status}}")),
        panel("Latency by route", "s",
              *quantiles("api_request_duration_seconds", "endpoint", "endpoint")),
        panel("Refused: authentication failures, blocked clients, connections", "reqps",
              q(f"sum(rate(api_auth_failures_total{{{I}}}[{R}]))", "401"),
              q(f"sum(rate(api_auth_blocked_total{{{I}}}[{R}]))", "429 (address blocked)"),
              q(f"sum(rate(api_connections_refused_total{{{I}}}[{R}]))", "connections refused")),
    ]),
    "orch-deployments": ("orch / Deployments", [
        panel("Deployments by status", "short",
              q(f"max by (status) (deployments{{{I}}})", "{{status}}"),
              description="Sampled from PostgreSQL every 15 s by each node (the same numbers on every node)."),
        panel("Operations running", "short",
              q(f'sum(max by (status) (deployments{{{I}, status=~"{BUSY}"}}))', "busy"),
              q(f"sum(deployments_waiting_to_start{{{I}}})", "waiting for an actor slot"),
              kind="stat"),
        panel("Longest a busy deployment has gone without an event", "s",
              q(f"max(deployments_busy_stillest_seconds{{{I}}})", "stillest"),
              description="Grows while a busy deployment makes no progress; OrchDeploymentStuck fires above 45 minutes."),
        panel("Operations finished by outcome", "ops",
              q(f"sum by (status) (rate(deployments_total{{{I}}}[{R}]))", "{{status}}")),
        panel("Operation duration", "s",
              *quantiles("deployment_duration_seconds", "status", "status")),
        panel("Queue: starts waiting for an actor slot", "short",
              q(f"sum by (instance) (deployments_waiting_to_start{{{I}}})", "{{instance}}")),
    ]),
    "orch-engine": ("orch / Engine", [
        panel("Actors live by kind", "short",
              q(f"sum by (kind) (actors_live{{{I}}})", "{{kind}}")),
        panel("Actor restarts by kind", "short",
              q(f"sum by (kind) (increase(actor_restarts_total{{{I}}}[{R}]))", "{{kind}}"),
              description="Supervisor restarts; OrchActorRestartStorm fires above 10 in 10 minutes."),
        panel("Cloud commands in flight", "short",
              q(f"sum by (instance) (deployment_commands_in_flight{{{I}}})", "{{instance}}"),
              description="Sent by deployment actors and not answered yet, status waits included."),
        panel("Cloud commands per second by command", "ops",
              q(f"sum by (workflow) (rate(workflow_execution_duration_seconds_count{{{I}}}[{R}]))",
                "{{workflow}}")),
        panel("Cloud command latency (p95) by command", "s",
              q(f"histogram_quantile(0.95, sum by (le, workflow) (rate(workflow_execution_duration_seconds_bucket{{{I}}}[{R}])))",
                "{{workflow}}")),
    ]),
    "orch-openstack": ("orch / OpenStack", [
        panel("Calls per second by service and status", "reqps",
              q(f"sum by (service, status) (rate(openstack_api_calls_total{{{I}}}[{R}]))",
                "{{service}} {{status}}")),
        panel("Failed calls per second by service", "reqps",
              q(f'sum by (service) (rate(openstack_api_calls_total{{{I}, status!~"2.."}}[{R}]) or rate(openstack_api_calls_total{{{I}}}[{R}]) * 0)',
                "{{service}}"),
              description="Everything but 2xx: 4xx, 5xx, timeouts, refused by an open breaker."),
        panel("Retries per second by service", "ops",
              q(f"sum by (service) (rate(openstack_api_retries_total{{{I}}}[{R}]))", "{{service}}")),
        panel("Circuit breakers (0 closed, 1 half-open, 2 open)", "short",
              q(f"max by (service) (openstack_circuit_breaker_state{{{I}}})", "{{service}}")),
        panel("Status polling: compute reads per second", "reqps",
              q(f'sum(rate(openstack_api_calls_total{{{I}, service="compute", method="GET"}}[{R}]))', "compute GET"),
              description="Batched status polls (one list per tick for every booting VM) and single reads."),
        panel("Call latency by service", "s",
              *quantiles("openstack_api_call_duration_seconds", "service", "service")),
    ]),
    "orch-database": ("orch / PostgreSQL", [
        panel("Database reachable", "short",
              q(f"min(database_up{{{I}}})", "up"), kind="stat"),
        panel("Queries per second by operation", "ops",
              q(f"sum by (operation) (rate(database_query_duration_seconds_count{{{I}}}[{R}]))",
                "{{operation}}")),
        panel("Query latency (p95) by operation", "s",
              q(f"histogram_quantile(0.95, sum by (le, operation) (rate(database_query_duration_seconds_bucket{{{I}}}[{R}])))",
                "{{operation}}")),
        panel("Query latency (p99), all operations", "s",
              q(f"histogram_quantile(0.99, sum by (le) (rate(database_query_duration_seconds_bucket{{{I}}}[{R}])))",
                "p99")),
    ]),
}


def grafana_panel(pid, p, x, y):
    width = 12 if p["kind"] == "timeseries" else 6
    out = {
        "id": pid,
        "type": p["kind"],
        "title": p["title"],
        "datasource": DS,
        "gridPos": {"h": 8, "w": width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": p["unit"]}, "overrides": []},
        "options": {},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DS, "expr": t["expr"],
                     "legendFormat": t["legend"]} for i, t in enumerate(p["targets"])],
    }
    if p["description"]:
        out["description"] = p["description"]
    return out


def dashboard(uid, title, panels):
    laid, x, y = [], 0, 0
    for pid, p in enumerate(panels, start=1):
        g = grafana_panel(pid, p, x, y)
        laid.append(g)
        x += g["gridPos"]["w"]
        if x >= 24:
            x, y = 0, y + 8
    return {
        "uid": uid,
        "title": title,
        "tags": ["orch"],
        "timezone": "utc",
        "schemaVersion": 38,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0},
            {"name": "instance", "label": "Node", "type": "query", "datasource": DS,
             "query": {"query": 'label_values(up{job="orch"}, instance)', "refId": "nodes"},
             "definition": 'label_values(up{job="orch"}, instance)', "refresh": 2,
             "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "hide": 0},
        ]},
        "links": [{"title": "orch dashboards", "type": "dashboards", "tags": ["orch"],
                   "asDropdown": True}],
        "panels": laid,
    }


if __name__ == "__main__":
    out_dir = pathlib.Path(__file__).resolve().parent / "dashboards"
    out_dir.mkdir(exist_ok=True)
    for uid, (title, panels) in DASHBOARDS.items():
        text = json.dumps(dashboard(uid, title, panels), indent=2) + "\n"
        (out_dir / f"{uid}.json").write_text(text)
