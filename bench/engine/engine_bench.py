#!/usr/bin/env python3
"""Deployment-engine benchmarks: the real orchestrator against openstack-sim and PostgreSQL.

Starts `openstack-sim` and `orchestrator serve` as child processes, on a database of its own
in the cluster that DATABASE_URL (or `./dev db url`) points at, drives them over the REST API
only, and prints one line per result:

  engine.throughput  N deployments x M VMs posted at once, simulator boot time 0: VMs per
                     second from the first POST to the last COMPLETED, and PostgreSQL commits
                     per VM (delta of pg_stat_database.xact_commit of the bench's database).
  engine.chain       one 1-VM deployment, simulator boot time 2 s: its wall time, the
                     critical path of every deployment on that setup (median of --chain-runs).
  engine.latency     one K-VM deployment on the same setup: wall time / critical path.

Every deployment's template has one network, one subnet, a router with an external gateway
and one VM group whose VMs have one volume each (attached once the VM is ACTIVE).
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

WRITE_KEY = "bench-write-key"
READ_KEY = "bench-read-key"


def log(msg):
    print(f"# {msg}", file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def cpu_seconds(pid):
    """User + system CPU time of a process and its reaped children, in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def postgres_cpu():
    """CPU time of every PostgreSQL process of this user (the dev cluster's backends)."""
    total = 0.0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() not in ("postgres", "postmaster"):
                    continue
        except OSError:
            continue
        total += cpu_seconds(pid)
    return total


def parse_time(text):
    """RFC 3339 (`...Z`, optional fraction) to seconds since the epoch."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


class Database:
    """A scratch database in the cluster of `admin_url`, dropped on close."""

    def __init__(self, admin_url, name):
        self.admin_url = admin_url
        self.name = name
        self.url = with_database(admin_url, name)
        # Stats are read from another database, so reading them commits nothing here.
        self.stats_url = with_database(admin_url, "postgres")
        self.psql(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(self.admin_url, f'CREATE DATABASE "{name}"')

    @staticmethod
    def psql(url, sql):
        out = subprocess.run(["psql", "-X", "-qAt", "-d", url, "-c", sql], check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()

    def commits(self):
        return int(self.psql(self.stats_url, "SELECT xact_commit FROM pg_stat_database "
                             f"WHERE datname = '{self.name}'"))

    def close(self):
        self.psql(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Process:
    def __init__(self, argv, env, log_path):
        self.log_path = log_path
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


def start_sim(binary, boot_time, log_dir):
    port = free_port()
    argv = [binary, "--host", "127.0.0.1", "--port", str(port), "--boot-time", boot_time,
            "--quota-instances", "100000", "--quota-cores", "1000000",
            "--quota-ram", "1000000000", "--quota-volumes", "100000",
            "--quota-gigabytes", "1000000", "--quota-networks", "100000"]
    proc = Process(argv, dict(os.environ), os.path.join(log_dir, f"sim-{port}.log"))
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/identity/v3", proc, "openstack-sim")
    return proc, url


def start_orchestrator(binary, db_url, sim_url, log_dir, pool_size):
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": db_url,
        "DATABASE_POOL_SIZE": str(pool_size),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_KEYS": f"{WRITE_KEY}:write,{READ_KEY}:read",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "RATE_LIMIT_PER_MINUTE": "1000000",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "OPENSTACK_AUTH_URL": sim_url + "/identity/v3",
        "OPENSTACK_USERNAME": "admin",
        "OPENSTACK_PASSWORD": "secret",
        "OPENSTACK_PROJECT_NAME": "admin",
        "OPENSTACK_USER_DOMAIN_NAME": "Default",
        "OPENSTACK_PROJECT_DOMAIN_NAME": "Default",
        "OPENSTACK_REGION": "RegionOne",
    }
    proc = Process([binary, "serve"], env, os.path.join(log_dir, f"orchestrator-{port}.log"))
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health/ready", proc, "orchestrator")
    return proc, url


def wait_http(url, proc, what, timeout=60):
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.proc.returncode}, see {proc.log_path}")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
            conn.request("GET", parts.path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready at {url}, see {proc.log_path}")


class Api:
    """The orchestrator's REST API over one keep-alive connection per thread."""

    def __init__(self, base):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.local = threading.local()
        self.reads = 0
        self.lock = threading.Lock()

    def call(self, method, path, body=None, key=READ_KEY):
        headers = {"X-API-Key": key}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if method == "GET":
            with self.lock:
                self.reads += 1
        for attempt in range(3):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection(self.host, self.port,
                                                                    timeout=60)
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                text = resp.read()
                return resp.status, json.loads(text) if text else None
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    raise


def template(name, vms, volumes):
    group = {"flavor": "m1.tiny", "image": "cirros", "count": vms}
    if volumes:
        group["volumes"] = [{"size_gb": 1}]
    return {
        "name": name,
        "description": "engine benchmark",
        "vm_config": {"vm": group},
        "network_config": {"cidr": "10.0.0.0/16", "subnets": {"vm": "10.0.1.0/24"},
                           "router": True, "external_network": "public"},
    }


def create_template(api, body):
    status, answer = api.call("POST", "/templates", body, WRITE_KEY)
    if status != 201:
        raise RuntimeError(f"POST /templates answered {status}: {answer}")


def post_deployment(api, name, tmpl):
    status, answer = api.call("POST", "/deployments",
                              {"name": name, "template": tmpl, "cloud_region": "RegionOne"},
                              WRITE_KEY)
    if status != 202:
        raise RuntimeError(f"POST /deployments answered {status}: {answer}")
    return answer["id"]


def count(api, status, prefix):
    code, page = api.call("GET", f"/deployments?status={status}&name={prefix}&limit=1")
    if code != 200:
        raise RuntimeError(f"GET /deployments answered {code}: {page}")
    return page["total"]


def wait_all(api, prefix, n, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = count(api, "COMPLETED", prefix)
        if done == n:
            return
        failed = count(api, "FAILED", prefix)
        if failed:
            raise RuntimeError(f"{failed} deployment(s) {prefix}* FAILED")
        time.sleep(interval)
    raise RuntimeError(f"{prefix}*: not all {n} COMPLETED within {timeout} s")


def finished_times(api, prefix):
    out = []
    offset = 0
    while True:
        code, page = api.call("GET", f"/deployments?name={prefix}&limit=500&offset={offset}")
        if code != 200:
            raise RuntimeError(f"GET /deployments answered {code}")
        out += [parse_time(d["operation"]["finished_at"]) for d in page["items"]]
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return out


def metrics_summary(url):
    """Repository operations and OpenStack calls the orchestrator counted, for the log."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    db, cloud = {}, {}
    for line in text.splitlines():
        if line.startswith("database_query_duration_seconds_count{"):
            op = line.split('operation="')[1].split('"')[0]
            db[op] = int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("openstack_api_calls_total{"):
            labels = line[line.index("{") + 1:line.index("}")]
            fields = dict(kv.split("=", 1) for kv in labels.split(","))
            key = fields["service"].strip('"') + ":" + fields["method"].strip('"')
            cloud[key] = cloud.get(key, 0) + int(float(line.rsplit(" ", 1)[1]))
    return f"db {db} openstack {cloud}"


def run_throughput(args, log_dir):
    db = Database(args.database_url, f"benchengine_tp_{random.getrandbits(32):08x}")
    sim = orch = None
    try:
        sim, sim_url = start_sim(args.sim, "fixed:0", log_dir)
        orch, url = start_orchestrator(args.orchestrator, db.url, sim_url, log_dir,
                                       args.pool_size)
        api = Api(url)
        create_template(api, template("bench-tp", args.vms, args.volumes))
        # Idle backends flush their statistics within about a second.
        time.sleep(2)
        commits_before = db.commits()
        reads_before = api.reads
        names = [f"tp-{i:04d}" for i in range(args.deployments)]
        load_before = loadavg()
        cpu_before = (cpu_seconds(orch.proc.pid), cpu_seconds(sim.proc.pid), postgres_cpu())
        perf = None
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "-q", "-F", "499", "-g", "-o", args.perf,
                                     "-p", f"{orch.proc.pid},{sim.proc.pid}"])
            time.sleep(0.5)
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda n: post_deployment(api, n, "bench-tp"), names))
        posted = time.time()
        wait_all(api, "tp-", args.deployments, args.timeout)
        polls = api.reads - reads_before
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait()
        last = max(finished_times(api, "tp-"))
        load_after = loadavg()
        cpu = [a - b for a, b in zip((cpu_seconds(orch.proc.pid), cpu_seconds(sim.proc.pid),
                                      postgres_cpu()), cpu_before)]
        log(f"cpu_s orchestrator={cpu[0]:.2f} sim={cpu[1]:.2f} postgres={cpu[2]:.2f}")
        log(metrics_summary(url))
        # Stopping the orchestrator makes its backends flush their statistics.
        orch.stop()
        orch = None
        time.sleep(1)
        commits = db.commits() - commits_before
        vms = args.deployments * args.vms
        seconds = last - t0
        print(f"engine.throughput deployments={args.deployments} vms={vms} "
              f"volumes_per_vm={args.volumes} vms_per_s={vms / seconds:.0f} "
              f"commits_per_vm={commits / vms:.2f} commits={commits} polls={polls} "
              f"seconds={seconds:.2f} post_s={posted - t0:.2f} "
              f"loadavg={load_before}..{load_after}", flush=True)
    finally:
        if orch:
            orch.stop()
        if sim:
            sim.stop()
        db.close()


def deploy_one(api, name, tmpl, timeout):
    t0 = time.time()
    dep_id = post_deployment(api, name, tmpl)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, dep = api.call("GET", f"/deployments/{dep_id}")
        if code != 200:
            raise RuntimeError(f"GET /deployments/{dep_id} answered {code}")
        if dep["status"] == "COMPLETED":
            return dep_id, parse_time(dep["operation"]["finished_at"]) - t0
        if dep["status"] == "FAILED":
            raise RuntimeError(f"{name} FAILED: {dep['operation']['error']}")
        time.sleep(0.02)
    raise RuntimeError(f"{name} not COMPLETED within {timeout} s")


def chain_steps(api, dep_id):
    """Seconds from the operation start to each resource's creation or readiness."""
    code, events = api.call("GET", f"/deployments/{dep_id}/events")
    if code != 200:
        raise RuntimeError(f"GET /deployments/{dep_id}/events answered {code}")
    start = None
    steps = []
    for ev in events:
        at = parse_time(ev["at"])
        if ev["type"] == "operation_started" and start is None:
            start = at
        if start is None:
            continue
        data = ev["data"]
        if ev["type"] in ("resource_created", "resource_ready"):
            what = data.get("logical_name") or data.get("kind")
            tag = "created" if ev["type"] == "resource_created" else "ready"
            steps.append(f"{what}:{tag}@{at - start:.2f}")
    return " ".join(steps)


def step_spread(api, dep_id):
    """Per step kind: when its first, median and last resource got there, from the start."""
    code, events = api.call("GET", f"/deployments/{dep_id}/events")
    if code != 200:
        raise RuntimeError(f"GET /deployments/{dep_id}/events answered {code}")
    start = None
    kinds = {}
    for ev in events:
        at = parse_time(ev["at"])
        if ev["type"] == "operation_started" and start is None:
            start = at
        if start is None or ev["type"] not in ("resource_created", "resource_ready"):
            continue
        name = ev["data"].get("logical_name", "?").split(":")[0]
        key = name + ("+" if ev["type"] == "resource_created" else "=ready")
        kinds.setdefault(key, []).append(at - start)
    return " ".join(f"{k}:{min(v):.2f}/{statistics.median(v):.2f}/{max(v):.2f}"
                    for k, v in kinds.items())


def run_latency(args, log_dir):
    db = Database(args.database_url, f"benchengine_lat_{random.getrandbits(32):08x}")
    sim = orch = None
    try:
        sim, sim_url = start_sim(args.sim, f"fixed:{args.boot_time}", log_dir)
        orch, url = start_orchestrator(args.orchestrator, db.url, sim_url, log_dir,
                                       args.pool_size)
        api = Api(url)
        create_template(api, template("bench-chain", 1, args.volumes))
        create_template(api, template("bench-wide", args.latency_vms, args.volumes))
        # The first deployment also pays for the token and the catalog: not part of a chain.
        deploy_one(api, "warm-up", "bench-chain", args.timeout)
        load = loadavg()
        chains = []
        for i in range(args.chain_runs):
            dep_id, secs = deploy_one(api, f"chain-{i}", "bench-chain", args.timeout)
            chains.append(secs)
        critical = statistics.median(chains)
        print(f"engine.chain vms=1 volumes_per_vm={args.volumes} boot={args.boot_time} "
              f"runs={len(chains)} critical_path_s={critical:.2f} "
              f"min_s={min(chains):.2f} max_s={max(chains):.2f} loadavg={load}", flush=True)
        log(f"chain steps of chain-{args.chain_runs - 1}: {chain_steps(api, dep_id)}")
        walls = []
        for i in range(args.latency_runs):
            load = loadavg()
            dep_id, wall = deploy_one(api, f"wide-{i}", "bench-wide", args.timeout)
            walls.append(wall)
            log(f"wide-{i} steps (first/median/last s): {step_spread(api, dep_id)}")
            print(f"engine.latency vms={args.latency_vms} volumes_per_vm={args.volumes} "
                  f"boot={args.boot_time} wall_s={wall:.2f} critical_path_s={critical:.2f} "
                  f"ratio={wall / critical:.3f} loadavg={load}", flush=True)
    finally:
        if orch:
            orch.stop()
        if sim:
            sim.stop()
        db.close()


def default_database_url():
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    dev = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dev")
    return subprocess.run([dev, "db", "url"], check=True, capture_output=True,
                          text=True).stdout.strip()


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--orchestrator", required=True, help="orchestrator executable")
    p.add_argument("--sim", required=True, help="openstack-sim executable")
    p.add_argument("--database-url", default=None,
                   help="admin URL of the PostgreSQL cluster (default: $DATABASE_URL, "
                        "else ./dev db url)")
    p.add_argument("--only", choices=["throughput", "latency"], default=None)
    p.add_argument("--deployments", type=int, default=200)
    p.add_argument("--vms", type=int, default=5, help="VMs per throughput deployment")
    p.add_argument("--volumes", type=int, choices=[0, 1], default=1, help="volumes per VM")
    p.add_argument("--clients", type=int, default=8, help="parallel POSTs")
    p.add_argument("--latency-vms", type=int, default=100)
    p.add_argument("--latency-runs", type=int, default=3)
    p.add_argument("--chain-runs", type=int, default=3)
    p.add_argument("--boot-time", default="2s")
    p.add_argument("--pool-size", type=int, default=8, help="DATABASE_POOL_SIZE")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--perf", default=None, help="perf record the throughput run into this file")
    p.add_argument("--log-dir", default=None, help="keep the logs here (default: temporary)")
    args = p.parse_args()
    args.database_url = args.database_url or default_database_url()

    log_dir = args.log_dir or tempfile.mkdtemp(prefix="bench-engine-")
    os.makedirs(log_dir, exist_ok=True)
    log(f"logs in {log_dir}")
    if args.only in (None, "throughput"):
        run_throughput(args, log_dir)
    if args.only in (None, "latency"):
        run_latency(args, log_dir)


if __name__ == "__main__":
    main()
