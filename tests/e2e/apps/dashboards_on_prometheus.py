#!/usr/bin/python3
"""Proves the dashboards and alert rules of deploy/ against a real Prometheus.

Starts the simulator, an orchestrator node on it (real PostgreSQL from DATABASE_URL) and a real
Prometheus scraping the node every second with deploy/prometheus/rules.yml loaded; deploys and
deletes examples/web-app-stack.json; then evaluates, through Prometheus' HTTP API, every query
of every panel of deploy/grafana/dashboards/*.json and the signal of every alert rule (its
expression without the final threshold comparison). Each must parse and return data; a query
naming a metric the node does not export fails with that name. Every rule must be loaded and
evaluated without error.

usage: dashboards_on_prometheus.py ORCHESTRATOR_BIN SIM_BIN REPO_ROOT
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

WRITE_KEY = "e2e-write-key"
READ_KEY = "e2e-read-key"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, key=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_until(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Processes:
    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, argv, env=None):
        log = open(self.work / f"{name}.log", "wb")
        p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def dump_logs(self):
        for name, _ in self.procs:
            path = self.work / f"{name}.log"
            print(f"--- {name} (last lines) ---")
            print("\n".join(path.read_text(errors="replace").splitlines()[-30:]))


def psql(admin_url, sql):
    subprocess.run(["psql", admin_url, "-qc", sql], check=True, stdout=subprocess.DEVNULL)


def dashboard_queries(root):
    """(where, expr) for every target of every panel, with Grafana's variables resolved."""
    out = []
    for path in sorted((root / "deploy/grafana/dashboards").glob("*.json")):
        doc = json.loads(path.read_text())
        for p in doc["panels"]:
            targets = p.get("targets", [])
            assert targets, f"{path.name}: panel '{p['title']}' has no query"
            for t in targets:
                expr = t["expr"].replace("$__rate_interval", "1m").replace("$instance", ".*")
                assert "$" not in expr, f"{path.name}: unresolved variable in {t['expr']}"
                out.append((f"{path.name} / {p['title']} / {t['refId']}", expr))
    return out


COMPARISON = re.compile(r"^(?P<signal>.+?)\s*(?:>=|<=|==|!=|>|<)\s*[0-9.eE+-]+\s*$", re.S)


def alert_signals(root):
    """(alert, signal) for every alert rule: the expression without its threshold."""
    rules = yaml.safe_load((root / "deploy/prometheus/rules.yml").read_text())
    out = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            m = COMPARISON.match(rule["expr"].strip())
            assert m, f"alert {rule['alert']}: expression is not 'signal <op> threshold'"
            out.append((rule["alert"], m.group("signal")))
    return out


PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and",
                   "unless", "bool", "offset", "inf", "nan"}


def metric_names(expr):
    """The metric names a PromQL expression selects (histogram suffixes dropped)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range selectors
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text):
        name = m.group(1)
        if name.lower() in PROMQL_KEYWORDS:
            continue
        names.add(re.sub(r"_(bucket|count|sum)$", "", name))
    return names


def main():
    orchestrator, sim, root = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    admin_url = os.environ.get("DATABASE_URL")
    if not admin_url:
        sys.exit("DATABASE_URL is not set: run the tests through ./dev test")
    prometheus = shutil.which("prometheus")
    if not prometheus:
        sys.exit("prometheus is not installed (Debian package prometheus; ./dev deps)")

    work = pathlib.Path(tempfile.mkdtemp(prefix="orch-e2e-prom-"))
    db = f"orch_e2e_prom_{os.getpid()}"
    procs = Processes(work)
    ok = False
    try:
        psql(admin_url, f"CREATE DATABASE {db}")
        db_url = admin_url.rsplit("/", 1)[0] + "/" + db

        sim_port = free_port()
        procs.start("sim", [sim, "--port", str(sim_port), "--boot-time", "uniform:200ms..1s"])
        sim_url = f"http://127.0.0.1:{sim_port}"
        wait_until("the simulator", lambda: http("GET", sim_url + "/identity/v3")[0] < 500, 30)

        api_port = free_port()
        env = dict(os.environ, DATABASE_URL=db_url, API_HOST="127.0.0.1", API_PORT=str(api_port),
                   API_KEYS=f"{WRITE_KEY}:write,{READ_KEY}:read",
                   SECRET_KEY="e2e-secret-key-for-tests", LOG_FORMAT="text",
                   OPENSTACK_AUTH_URL=sim_url + "/identity/v3", OPENSTACK_USERNAME="admin",
                   OPENSTACK_PASSWORD="secret", OPENSTACK_PROJECT_NAME="admin",
                   OPENSTACK_REGION="RegionOne")
        procs.start("orchestrator", [orchestrator, "serve"], env)
        api = f"http://127.0.0.1:{api_port}"
        wait_until("the orchestrator", lambda: http("GET", api + "/health")[0] == 200, 60)

        prom_port = free_port()
        shutil.copy(root / "deploy/prometheus/rules.yml", work / "rules.yml")
        (work / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["rules.yml"],
            "scrape_configs": [{"job_name": "orch", "metrics_path": "/metrics",
                                "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}]}],
        }))
        procs.start("prometheus", [prometheus, f"--config.file={work / 'prometheus.yml'}",
                                   f"--storage.tsdb.path={work / 'tsdb'}",
                                   f"--web.listen-address=127.0.0.1:{prom_port}"])
        prom = f"http://127.0.0.1:{prom_port}"
        wait_until("Prometheus", lambda: http("GET", prom + "/-/ready")[0] == 200, 60)

        # Work for the node: a deployment made and deleted on the simulator.
        template = json.loads((root / "examples/web-app-stack.json").read_text())
        status, body = http("POST", api + "/templates", template, WRITE_KEY)
        assert status == 201, f"POST /templates: {status} {body}"
        status, body = http("POST", api + "/deployments",
                            {"name": "e2e-prom", "template": template["name"],
                             "cloud_region": "RegionOne"}, WRITE_KEY)
        assert status == 202, f"POST /deployments: {status} {body}"
        dep = json.loads(body)["id"]

        def status_is(want):
            code, text = http("GET", f"{api}/deployments/{dep}", key=READ_KEY)
            return code == 200 and json.loads(text)["status"] == want

        wait_until("COMPLETED", lambda: status_is("COMPLETED"), 120)
        status, body = http("DELETE", f"{api}/deployments/{dep}", key=WRITE_KEY)
        assert status == 202, f"DELETE: {status} {body}"
        wait_until("DELETED", lambda: status_is("DELETED"), 120)
        # A few answers of other kinds, so that every route class has a series.
        http("GET", api + "/deployments/00000000-0000-0000-0000-000000000000", key=READ_KEY)
        http("GET", api + "/deployments", key="not-a-key")

        def query(expr):
            code, text = http("GET", prom + "/api/v1/query?" + urllib.parse.urlencode(
                {"query": expr}))
            return code, json.loads(text)

        # Rate windows of one minute need two samples after the work: wait for the scrapes.
        time.sleep(5)
        names = query('group by (__name__) ({job="orch"})')[1]["data"]["result"]
        exported = {r["metric"]["__name__"] for r in names}
        # A histogram or summary counts under its own name too.
        exported |= {re.sub(r"_(bucket|count|sum)$", "", n) for n in exported}
        assert "deployments" in exported, f"the node's metrics did not reach Prometheus: {exported}"

        failures = []
        checks = [("dashboard " + w, e) for w, e in dashboard_queries(root)]
        checks += [("alert " + a, s) for a, s in alert_signals(root)]
        for where, expr in checks:
            missing = sorted(n for n in metric_names(expr) if n not in exported and n != "up")
            if missing:
                failures.append(f"{where}: names metrics the node does not export: {missing}")
                continue
            code, doc = query(expr)
            if code != 200 or doc.get("status") != "success":
                failures.append(f"{where}: Prometheus refused the query ({code}): "
                                f"{doc.get('error')}\n    {expr}")
            elif not doc["data"]["result"]:
                failures.append(f"{where}: returned no data\n    {expr}")
        # Every rule loaded and evaluated without error.
        wait_until("a rule evaluation", lambda: all(
            r.get("lastEvaluation", "").startswith("20")
            for g in json.loads(http("GET", prom + "/api/v1/rules")[1])["data"]["groups"]
            for r in g["rules"]), 30)
        rules = json.loads(http("GET", prom + "/api/v1/rules")[1])["data"]["groups"]
        loaded = [r for g in rules for r in g["rules"]]
        expected = len(alert_signals(root))
        if len(loaded) != expected:
            failures.append(f"Prometheus loaded {len(loaded)} rules, rules.yml has {expected}")
        for r in loaded:
            if r.get("health") != "ok":
                failures.append(f"rule {r['name']}: health {r.get('health')}: {r.get('lastError')}")
        if failures:
            print("\n".join(failures))
            raise AssertionError(f"{len(failures)} of {len(checks)} checks failed")
        print(f"{len(checks)} queries ({len(checks) - expected} dashboard, {expected} alert) "
              f"returned data; {len(loaded)} rules evaluate cleanly")
        ok = True
    finally:
        procs.stop_all()
        if not ok:
            procs.dump_logs()
        try:
            psql(admin_url, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
