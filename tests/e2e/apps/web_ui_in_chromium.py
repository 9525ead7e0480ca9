#!/usr/bin/python3
"""The web UI (/ui/) in a real headless Chromium, driven through the DevTools protocol.

Starts the simulator, an orchestrator node on it (real PostgreSQL from DATABASE_URL) and
Debian's chromium, then, in the browser: the page loads and asks for a key; with a valid key it
lists deployments; a deployment started through the API appears in the list, and its page shows
it going from a busy status to COMPLETED, with its VMs and a live event feed, without a reload;
the layout fits a phone's width; the status filter works; a bad key shows the API's error. No
console message, uncaught exception or browser log entry of level error may occur until the bad
key is tried (whose 401 the browser logs by design). The key must not reach the node's log.

Exits 77 (ctest SKIP) only when chromium is installed but cannot start here.

usage: web_ui_in_chromium.py ORCHESTRATOR_BIN SIM_BIN REPO_ROOT
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket  # Debian python3-websocket

WRITE_KEY = "e2e-ui-write-key"
READ_KEY = "e2e-ui-read-key"
SKIP = 77


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
            return res.status, res.read().decode(), res.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


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
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for _, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if name == "chromium":
                # Its zygote and renderers share its process group, which it leads.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def log(self, name):
        return (self.work / f"{name}.log").read_text(errors="replace")

    def dump_logs(self):
        for name, _ in self.procs:
            print(f"--- {name} (last lines) ---")
            print("\n".join(self.log(name).splitlines()[-30:]))


def psql(admin_url, sql):
    subprocess.run(["psql", admin_url, "-qc", sql], check=True, stdout=subprocess.DEVNULL)


class DevTools:
    """A minimal DevTools protocol client over one page target's WebSocket."""

    def __init__(self, ws_url):
        # Chromium refuses DevTools WebSockets from an unexpected Origin; send none.
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        mine = self.next_id
        self.ws.send(json.dumps({"id": mine, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mine:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def js(self, expression):
        got = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in got:
            raise AssertionError(f"{expression}: {got['exceptionDetails']}")
        return got["result"].get("value")

    def wait_js(self, what, expression, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.js(expression)
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what} "
                             f"({expression} = {last!r})\npage: {self.js('document.body.innerText')}")

    def errors(self):
        """Console errors, uncaught exceptions and browser log errors seen so far."""
        out = []
        for ev in self.events:
            method, p = ev["method"], ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails']}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert",
                                                                          "warning"):
                args = [a.get("value", a.get("description")) for a in p.get("args", [])]
                out.append(f"console.{p['type']}: {args}")
            elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                e = p["entry"]
                out.append(f"log {e['level']} ({e['source']}): {e['text']} {e.get('url', '')}")
        return out


def start_chromium(procs, work):
    """The browser's DevTools address, or None when it cannot start here."""
    chromium = shutil.which("chromium")
    if not chromium:
        sys.exit("chromium is not installed (Debian package chromium; ./dev deps)")
    profile = work / "profile"
    argv = [chromium, "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--disable-component-update",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", "about:blank"]
    if os.geteuid() == 0:
        # The sandbox needs user namespaces root does not get here; the page is our own.
        argv.insert(1, "--no-sandbox")
    p = procs.start("chromium", argv)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if port_file.exists() and port_file.read_text().strip():
            return f"127.0.0.1:{port_file.read_text().split()[0]}"
        if p.poll() is not None:
            break
        time.sleep(0.2)
    print("chromium did not start:")
    print("\n".join(procs.log("chromium").splitlines()[-20:]))
    return None


def page_target(devtools_addr):
    def listed():
        with urllib.request.urlopen(f"http://{devtools_addr}/json/list", timeout=10) as res:
            return [t for t in json.loads(res.read()) if t["type"] == "page"]
    wait_until("a page target", lambda: listed(), 30)
    return listed()[0]["webSocketDebuggerUrl"]


def main():
    orchestrator, sim, root = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
    admin_url = os.environ.get("DATABASE_URL")
    if not admin_url:
        sys.exit("DATABASE_URL is not set: run the tests through ./dev test")

    work = pathlib.Path(tempfile.mkdtemp(prefix="orch-e2e-ui-"))
    db = f"orch_e2e_ui_{os.getpid()}"
    procs = Processes(work)
    ok = False
    try:
        devtools_addr = start_chromium(procs, work)
        if devtools_addr is None:
            print("SKIP: chromium cannot start on this machine")
            ok = True
            sys.exit(SKIP)

        psql(admin_url, f"CREATE DATABASE {db}")
        db_url = admin_url.rsplit("/", 1)[0] + "/" + db
        sim_port = free_port()
        # VMs boot for seconds, so the page can be seen following a deployment still busy.
        procs.start("sim", [sim, "--port", str(sim_port), "--boot-time", "uniform:3s..5s"])
        sim_url = f"http://127.0.0.1:{sim_port}"
        wait_until("the simulator", lambda: http("GET", sim_url + "/identity/v3")[0] < 500, 30)
        api_port = free_port()
        env = dict(os.environ, DATABASE_URL=db_url, API_HOST="127.0.0.1", API_PORT=str(api_port),
                   API_KEYS=f"{WRITE_KEY}:write,{READ_KEY}:read",
                   SECRET_KEY="e2e-secret-key-for-tests", LOG_FORMAT="text", LOG_LEVEL="debug",
                   OPENSTACK_AUTH_URL=sim_url + "/identity/v3", OPENSTACK_USERNAME="admin",
                   OPENSTACK_PASSWORD="secret", OPENSTACK_PROJECT_NAME="admin",
                   OPENSTACK_REGION="RegionOne")
        procs.start("orchestrator", [orchestrator, "serve"], env)
        api = f"http://127.0.0.1:{api_port}"
        wait_until("the orchestrator", lambda: http("GET", api + "/health")[0] == 200, 60)

        template = json.loads((root / "examples/web-app-stack.json").read_text())
        status, body, _ = http("POST", api + "/templates", template, WRITE_KEY)
        assert status == 201, f"POST /templates: {status} {body}"

        # The static files: open, with the security fields the page relies on.
        status, body, headers = http("GET", api + "/ui/")
        assert status == 200, f"GET /ui/: {status} {body}"
        csp = headers.get("Content-Security-Policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp

        cdp = DevTools(page_target(devtools_addr))
        for domain in ("Runtime", "Log", "Page"):
            cdp.call(f"{domain}.enable")
        cdp.call("Page.navigate", url=api + "/ui/")
        cdp.wait_js("the key form", "document.readyState === 'complete' && "
                    "!document.getElementById('key-form').hidden", 30)
        # Set once: a reload of the page would lose it.
        cdp.js("window.__loadedOnce = true")

        def enter_key(key):
            cdp.js(f"document.getElementById('key-input').value = {json.dumps(key)};"
                   "document.getElementById('key-form').requestSubmit()")

        enter_key(READ_KEY)
        cdp.wait_js("the deployments list", "!document.getElementById('list-view').hidden && "
                    "document.getElementById('list-empty').hidden === false", 30)
        assert cdp.js("sessionStorage.getItem('orch.apiKey')") == READ_KEY

        status, body, _ = http("POST", api + "/deployments",
                               {"name": "e2e-ui", "template": template["name"],
                                "cloud_region": "RegionOne"}, WRITE_KEY)
        assert status == 202, f"POST /deployments: {status} {body}"
        dep = json.loads(body)["id"]
        row = f"document.querySelector('#deployments tr[data-id=\"{dep}\"]')"
        cdp.wait_js("the new deployment in the list", f"{row} !== null", 30)
        assert cdp.js(f"{row}.cells[0].textContent") == "e2e-ui"
        cdp.js(f"{row}.querySelector('a').click()")
        cdp.wait_js("the deployment page", "!document.getElementById('deployment-view').hidden"
                    f" && document.getElementById('dep-id').textContent === '{dep}'", 30)

        # Watch the status shown change until COMPLETED.
        seen = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            shown = cdp.js("document.getElementById('dep-status').textContent")
            if shown and (not seen or seen[-1] != shown):
                seen.append(shown)
            if shown == "COMPLETED":
                break
            time.sleep(0.1)
        assert seen and seen[-1] == "COMPLETED", f"the page showed {seen}, never COMPLETED"
        assert len(seen) > 1, f"the page showed only {seen}: it did not follow the deployment live"
        assert cdp.js("window.__loadedOnce === true"), "the page was reloaded"
        cdp.wait_js("six VMs", "document.querySelectorAll('#vms tr').length === 6", 10)
        types = cdp.js("[...document.querySelectorAll('#events li .event-head')]"
                       ".map(e => e.textContent)")
        assert any("operation_finished" in t for t in types), f"events shown: {types}"
        assert cdp.js("document.getElementById('feed-state').textContent") == "(live)"
        print(f"the page showed {' -> '.join(seen)} and {len(types)} events without a reload")

        # A phone: nothing wider than its screen.
        cdp.call("Emulation.setDeviceMetricsOverride", width=375, height=740,
                 deviceScaleFactor=2, mobile=True)
        width = cdp.wait_js("the phone layout",
                            "document.documentElement.scrollWidth <= 375 && "
                            "document.documentElement.scrollWidth", 10)
        cdp.js("location.hash = '#/'")
        cdp.wait_js("the list on a phone", f"{row} !== null", 30)
        assert cdp.js("document.documentElement.scrollWidth") <= 375, "the list overflows a phone"
        cdp.call("Emulation.clearDeviceMetricsOverride")
        print(f"a phone's 375 px fit both views (deployment page {width} px wide)")

        # The status filter asks the API for that status only.
        def pick(status):
            cdp.js(f"{{ const s = document.getElementById('status-filter'); s.value = '{status}';"
                   "s.dispatchEvent(new Event('change')); }")
        pick("FAILED")
        cdp.wait_js("the FAILED filter", f"{row} === null && "
                    "!document.getElementById('list-empty').hidden", 15)
        pick("COMPLETED")
        cdp.wait_js("the COMPLETED filter", f"{row} !== null", 15)

        errors = cdp.errors()
        assert not errors, "the page logged errors:\n" + "\n".join(errors)

        # A bad key: the API's problem detail is shown and the key is asked for again.
        cdp.js("document.getElementById('forget-key').click()")
        cdp.wait_js("the key form again", "!document.getElementById('key-form').hidden", 10)
        enter_key("not-a-valid-key")
        text = cdp.wait_js("the error", "!document.getElementById('error').hidden && "
                           "document.getElementById('error').textContent", 15)
        assert "401" in text and "the API key is not valid" in text, f"error shown: {text}"
        assert cdp.js("!document.getElementById('key-form').hidden"), "no key form after a 401"
        assert cdp.js("sessionStorage.getItem('orch.apiKey')") is None
        print(f"a bad key showed: {text}")

        node_log = procs.log("orchestrator")
        for key in (READ_KEY, "not-a-valid-key"):
            assert key not in node_log, f"the node logged an API key ({key})"
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
