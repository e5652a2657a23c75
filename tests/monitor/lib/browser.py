#!/usr/bin/env python3
"""tests/monitor/lib/browser.py — opens rtml's dashboard in a real headless Chromium and checks what it draws.

Drives Debian's chromium through chromedriver over the W3C WebDriver protocol (plain HTTP + JSON, standard
library only), so the test needs no Selenium. Against a running rtml (BASE = its monitor URL) it:
  1. loads BASE/ and waits (with a deadline) until the page says "live", every visible chart's canvas holds
     at least --min-points points (data-points), every chart marks each drift event of the window
     (data-drift-lines), and #model-version equals the version that BASE/model reports;
  2. saves a screenshot to --screenshot (also when a check fails, to see why);
  3. with --stop-pid PID: sends SIGTERM to PID (the rtml process) and waits until the page shows
     "disconnected".
Prints one line per check ("ok: ..."), and the reason on failure; exit 0 pass, 1 fail, 2 set-up problem.
"""
import argparse
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CHROMIUM = os.environ.get("RTML_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RTML_CHROMEDRIVER", "/usr/bin/chromedriver")

# What the page shows, read in the page (returned as one JSON-able object).
PAGE_STATE_JS = """
const charts = {};
for (const c of document.querySelectorAll('canvas[data-chart]')) {
  const card = c.closest('.card');
  if (card && card.hidden) continue;
  charts[c.dataset.chart + (c.dataset.metric ? ':' + c.dataset.metric : '')] =
    {points: +c.dataset.points, drift: +(c.dataset.driftLines || 0), width: c.width, height: c.height};
}
const v = document.getElementById('model-version');
const conn = document.getElementById('connection');
return {charts: charts, version: v ? v.textContent.trim() : null,
        connection: conn ? conn.dataset.state : null, drift_count: (document.getElementById('drift-count') || {}).textContent};
"""


class SetupError(Exception):
    pass


def http_json(method, url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode() or "null")
    except urllib.error.HTTPError as e:  # WebDriver errors come back as JSON with a status >= 400
        detail = e.read().decode(errors="replace")
        raise SetupError(f"{method} {url}: HTTP {e.code}: {detail[:500]}") from None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    """A chromedriver process and one headless Chromium session; close() ends both."""

    def __init__(self, width, height, log_path):
        self.port = free_port()
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([CHROMEDRIVER, f"--port={self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.session = None
        self._wait_ready(deadline=time.time() + 30)
        self.profile = tempfile.mkdtemp(prefix="rtml-chromium-")
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                f"--window-size={width},{height}", f"--user-data-dir={self.profile}"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions":
                                                 {"binary": CHROMIUM, "args": args}}}}
        r = http_json("POST", f"{self.base}/session", caps, timeout=60)
        self.session = f"{self.base}/session/{r['value']['sessionId']}"

    def _wait_ready(self, deadline):
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"chromedriver exited with {self.proc.returncode}")
            try:
                if http_json("GET", f"{self.base}/status", timeout=2)["value"]["ready"]:
                    return
            except (OSError, SetupError, KeyError):
                pass
            time.sleep(0.1)
        raise SetupError("chromedriver did not become ready within 30 s")

    def open(self, url):
        http_json("POST", f"{self.session}/url", {"url": url}, timeout=60)

    def run(self, script):
        return http_json("POST", f"{self.session}/execute/sync", {"script": script, "args": []})["value"]

    def screenshot(self, path):
        png = base64.b64decode(http_json("GET", f"{self.session}/screenshot", timeout=60)["value"])
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png)
        return len(png)

    def close(self):
        try:
            if self.session:
                http_json("DELETE", self.session, timeout=30)
        except (OSError, SetupError):
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        subprocess.run(["rm", "-rf", self.profile], check=False)


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def problems(state, model, stats, min_points):
    """Why the page is not yet what it should be (an empty list: it is)."""
    out = []
    if state["connection"] != "live":
        out.append(f"connection badge is {state['connection']!r}, not 'live'")
    if len(state["charts"]) < 5:
        out.append(f"only {len(state['charts'])} charts visible: {sorted(state['charts'])}")
    for name, c in sorted(state["charts"].items()):
        if c["points"] < min_points:
            out.append(f"chart {name} draws {c['points']} points (< {min_points})")
        if c["width"] < 100 or c["height"] < 50:
            out.append(f"chart {name} canvas is only {c['width']}x{c['height']} px")
    t = stats.get("series", {}).get("t", [])
    in_window = [e for e in stats.get("drift_events", []) if t and t[0] <= e["t"] <= t[-1]]
    for name, c in sorted(state["charts"].items()):
        if c["drift"] != len(in_window):
            out.append(f"chart {name} marks {c['drift']} drift events, api/stats has {len(in_window)} in its window")
    if state["version"] != str(model.get("version")):
        out.append(f"#model-version shows {state['version']!r}, /model says {model.get('version')!r}")
    return out


def check_page(drv, base, min_points, timeout):
    """Waits until the page passes every check; returns the last state and reasons (empty when it passed)."""
    deadline = time.time() + timeout
    while True:
        state = drv.run(PAGE_STATE_JS)
        try:
            model, stats = get_json(f"{base}/model"), get_json(f"{base}/api/stats")
        except (OSError, ValueError) as e:
            return state, [f"rtml's /model or /api/stats failed: {e}"]
        why = problems(state, model, stats, min_points)
        if not why or time.time() > deadline:
            return state, why
        time.sleep(0.5)


def wait_disconnected(drv, pid, timeout):
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if drv.run(PAGE_STATE_JS)["connection"] == "disconnected":
            return True
        time.sleep(0.25)
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("base", help="rtml's monitor URL, e.g. http://127.0.0.1:19465")
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--min-points", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=60, help="seconds to wait for the page to pass")
    ap.add_argument("--stop-pid", type=int, help="SIGTERM this process after the checks; expect 'disconnected'")
    ap.add_argument("--size", default="1400,1000")
    ap.add_argument("--driver-log", default=os.path.join(tempfile.gettempdir(), "rtml-chromedriver.log"))
    a = ap.parse_args()
    width, height = (int(x) for x in a.size.split(","))
    try:
        drv = Driver(width, height, a.driver_log)
    except (OSError, SetupError) as e:
        print(f"FAILED: cannot start headless Chromium through chromedriver: {e}", file=sys.stderr)
        return 2
    try:
        drv.open(a.base + "/")
        state, why = check_page(drv, a.base, a.min_points, a.timeout)
        size = drv.screenshot(a.screenshot)
        print(f"ok: screenshot {a.screenshot} ({size} bytes)")
        print("page: " + json.dumps(state, sort_keys=True))
        if why:
            for w in why:
                print(f"FAILED: {w}", file=sys.stderr)
            return 1
        print(f"ok: page is live, {len(state['charts'])} charts each with >= {a.min_points} points and every drift "
              f"event marked; #model-version {state['version']} matches /model")
        if a.stop_pid:
            if not wait_disconnected(drv, a.stop_pid, 20):
                print("FAILED: the page did not show 'disconnected' within 20 s of stopping rtml", file=sys.stderr)
                return 1
            print("ok: the page shows 'disconnected' once rtml is stopped")
        return 0
    except (OSError, SetupError) as e:
        print(f"FAILED: browser session: {e}", file=sys.stderr)
        return 1
    finally:
        drv.close()


if __name__ == "__main__":
    sys.exit(main())
