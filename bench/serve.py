"""serve.py - the `serve` benchmark: rtml's Open Inference Protocol endpoint (serve:) on the live model, beside
MLServer serving the equivalent scikit-learn model over the same protocol on the same machine.

usage: serve.py RTML_BINARY OIP_PROBE RESULTS_DIR [MLSERVER_PYTHON]
       (bench/run.sh serve builds the probe, builds MLServer's own venv from deps/mlserver.lock into
       .deps/mlserver-venv, starts a private broker on BENCH_SERVE_PORT (39700) and stops it afterwards;
       env: BENCH_SERVE_SECONDS (10), BENCH_SERVE_RATES (native), BENCH_SERVE_TF_RATES, BENCH_SERVE_ML_RATES,
       BENCH_SERVE_CONNECTIONS (32))

Models, trained on the same 20,000 SEA records: rtml native logistic (standardize x1..x3, SGD 0.05), learning from
its topic while it serves; rtml TensorFlow MLP (Input(3) -> Dense(16, relu) -> Dense(1, sigmoid), bench/tf_peer.py's
export, raw x1..x3, training on); MLServer 1.7.1 + mlserver-sklearn: a scikit-learn Pipeline(StandardScaler,
LogisticRegression) on x1..x3, MLServer's default settings. Requests: single-record, HTTP/1.1 keep-alive, JSON;
rtml gets raw records (a BYTES tensor of the JSON document: decode, featurize, score), MLServer the three numbers
(an FP32 [1, 3] tensor: it has no decoder). Load: tests/serve/oip_probe.c, open loop at each fixed offered rate
for BENCH_SERVE_SECONDS, BENCH_SERVE_CONNECTIONS connections; latency from when each request was due (queueing at
an overloaded server counts). A rate is sustained when every request was answered 200 and the achieved rate is
within 3% of the offered one. Writes RESULTS_DIR/<date>-serve.md, prints a summary with the targets: p99 <= 1 ms
at 5,000 requests/s for the native model; >= 10x MLServer's requests/s at equal p99.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = os.path.join(ROOT, ".venv", "bin", "python")
ENV = os.environ.get
PORT = int(ENV("BENCH_SERVE_PORT", "39700"))
BROKERS = f"127.0.0.1:{PORT}"
SECONDS = float(ENV("BENCH_SERVE_SECONDS", "10"))
CONNS = int(ENV("BENCH_SERVE_CONNECTIONS", "32"))
RATES = [int(r) for r in ENV("BENCH_SERVE_RATES", "1000,2000,5000,10000,15000,20000").split(",")]
TF_RATES = [int(r) for r in ENV("BENCH_SERVE_TF_RATES", "500,1000,2000,5000").split(",")]
ML_RATES = [int(r) for r in ENV("BENCH_SERVE_ML_RATES", "100,200,400,800,1200,1600").split(",")]
N_TRAIN = 20000
PORTS = {"native": PORT + 10, "tensorflow": PORT + 11, "mlserver": PORT + 20}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load_average():
    return open("/proc/loadavg").read().split()[:3]


def get(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except Exception:  # noqa: BLE001 - not up yet
        return None, b""


def wait_for(what, cond, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def data(rtml, work):
    train, queries = f"{work}/train.jsonl", f"{work}/queries.jsonl"
    subprocess.run(f"{rtml} gen --stream sea --n {N_TRAIN} --seed 61 >{train}", shell=True, check=True)
    subprocess.run(f"{rtml} gen --stream sea --n 2000 --seed 62 >{queries}", shell=True, check=True)
    docs = [l.strip() for l in open(queries)]
    with open(f"{work}/records.txt", "w") as f:
        for d in docs:
            f.write(json.dumps({"inputs": [{"name": "records", "datatype": "BYTES", "shape": [1], "data": [d]}]}) + "\n")
    with open(f"{work}/numbers.txt", "w") as f:
        for d in docs:
            r = json.loads(d)
            x = [r["x1"], r["x2"], r["x3"]]
            f.write(json.dumps({"inputs": [{"name": "predict", "datatype": "FP32", "shape": [1, 3], "data": x}]}) + "\n")
    return train


def probe(oip_probe, port, path, bodies, rate):
    cmd = [oip_probe, "--port", str(port), "--path", path, "--bodies", bodies, "--rate", str(rate),
           "--seconds", str(SECONDS), "--connections", str(CONNS)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else {"failed": 1}
    out["offered"] = rate
    out["sustained"] = (not out.get("failed") and out.get("errors", 1) == 0 and
                        out.get("requests_per_second", 0) >= 0.97 * rate)
    return out


def sweep(name, oip_probe, port, path, bodies, rates):
    rows = []
    for rate in rates:
        r = probe(oip_probe, port, path, bodies, rate)
        rows.append(r)
        log(f"serve: {name:10} offered {rate:6}/s achieved {r.get('requests_per_second', 0):8.0f}/s "
            f"p50 {r.get('p50_ms', 0):7.3f} p99 {r.get('p99_ms', 0):8.3f} p99.9 {r.get('p999_ms', 0):8.3f} ms "
            f"errors {r.get('errors', '?')} {'ok' if r['sustained'] else 'NOT sustained'}")
        if not r["sustained"] and r.get("p99_ms", 0) > 1000:
            break  # past saturation: higher rates only queue more
    return rows


def rtml_config(path, topic, work, name, tensorflow=None):
    model = ("model:\n  engine: tensorflow\n  tensorflow: {saved_model: %s, batch: 64, max_delay: 5ms, "
             "export_dir: %s/models-%s}\n" % (tensorflow, work, name)) if tensorflow else \
        "model: {type: logistic, optimizer: {name: sgd, learning_rate: 0.05}}\n"
    transforms = "" if tensorflow else ", transforms: [standardize]"
    with open(path, "w") as f:
        f.write(f"kafka: {{bootstrap.servers: '{BROKERS}', group.id: bench-serve-{name}, auto.offset.reset: earliest}}\n"
                f"input: {{topics: [{topic}], format: json}}\nfeatures:\n"
                + "".join(f"  - {{name: x{i}, field: /x{i}{transforms}}}\n" for i in (1, 2, 3)) +
                f"label: {{field: /label}}\n{model}output: {{topic: {topic}-out}}\n"
                f"state: {{dir: {work}/state-{name}}}\nserve: {{listen: 127.0.0.1:{PORTS[name]}, threads: 2}}\n")


def run_rtml(rtml, oip_probe, work, train, name, rates, tensorflow=None):
    topic = f"bench-serve-{name}-{os.getpid()}"
    subprocess.run([rtml, "topics", "create", topic, "--partitions", "1", "--brokers", BROKERS], check=True,
                   capture_output=True)
    subprocess.run(f"{rtml} produce --brokers {BROKERS} --topic {topic} --input {train} >/dev/null 2>&1", shell=True,
                   check=True)
    cfg = f"{work}/{name}.yaml"
    rtml_config(cfg, topic, work, name, tensorflow)
    err = open(f"{work}/{name}.log", "w")
    p = subprocess.Popen([rtml, "run", "-c", cfg], stdout=subprocess.DEVNULL, stderr=err,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    base = f"http://127.0.0.1:{PORTS[name]}"

    def learned():
        status, body = get(f"{base}/v2/models/rtml")
        return status == 200 and json.loads(body)["parameters"]["learned"] >= N_TRAIN
    try:
        wait_for(f"{name}: the model learned {N_TRAIN} records", learned)
        return sweep(name, oip_probe, PORTS[name], "/v2/models/rtml/infer", f"{work}/records.txt", rates)
    finally:
        p.terminate()
        p.wait(timeout=60)


def export_mlp(work):
    p = subprocess.run([PY, f"{HERE}/tf_peer.py"], input=json.dumps({"cmd": "export", "dir": work}) + "\n" +
                       json.dumps({"cmd": "quit"}) + "\n", capture_output=True, text=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)["path"].rsplit("/", 1)[0]
    raise RuntimeError(f"tf_peer export: {p.stderr[-500:]}")


MLSERVER_MODEL = r"""
import json, sys, joblib
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
rows = [json.loads(l) for l in open(sys.argv[1])]
X = [[r["x1"], r["x2"], r["x3"]] for r in rows]
y = [r["label"] for r in rows]
joblib.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), sys.argv[2])
"""


def run_mlserver(mlpy, oip_probe, work, train):
    d = f"{work}/mlserver"
    os.makedirs(f"{d}/sea", exist_ok=True)
    subprocess.run([mlpy, "-c", MLSERVER_MODEL, train, f"{d}/sea/model.joblib"], check=True)
    json.dump({"name": "sea", "implementation": "mlserver_sklearn.SKLearnModel",
               "parameters": {"uri": "./model.joblib"}}, open(f"{d}/sea/model-settings.json", "w"))
    json.dump({"http_port": PORTS["mlserver"], "grpc_port": PORTS["mlserver"] + 1, "metrics_port": PORTS["mlserver"] + 2},
              open(f"{d}/settings.json", "w"))
    err = open(f"{work}/mlserver.log", "w")
    p = subprocess.Popen([os.path.join(os.path.dirname(mlpy), "mlserver"), "start", d], stdout=err, stderr=err)
    try:
        wait_for("MLServer ready", lambda: get(f"http://127.0.0.1:{PORTS['mlserver']}/v2/models/sea/ready")[0] == 200)
        return sweep("mlserver", oip_probe, PORTS["mlserver"], "/v2/models/sea/infer", f"{work}/numbers.txt", ML_RATES)
    finally:
        p.terminate()
        p.wait(timeout=60)


def best(rows, p99=None):
    """The highest sustained rate (with p99 at most p99 ms when given), its row."""
    ok = [r for r in rows if r["sustained"] and (p99 is None or r["p99_ms"] <= p99)]
    return max(ok, key=lambda r: r["offered"]) if ok else None


def report(res, out_dir):
    date = datetime.date.today().isoformat()
    md = os.path.join(out_dir, f"{date}-serve.md")
    lines = [f"# serve benchmark, {date}", "",
             f"Machine: {os.cpu_count()} cores; load average at the start {' '.join(res['load_start'])}, "
             f"at the end {' '.join(res['load_end'])}. {SECONDS:g} s per rate, {CONNS} keep-alive connections, "
             "open loop (bench/serve.py says how).", "",
             "| server | offered/s | achieved/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | sustained |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, rows in res["runs"].items():
        for r in rows:
            lines.append(f"| {name} | {r['offered']} | {r.get('requests_per_second', 0):.0f} | {r.get('p50_ms', 0):.3f} | "
                         f"{r.get('p99_ms', 0):.3f} | {r.get('p999_ms', 0):.3f} | {r.get('max_ms', 0):.1f} | "
                         f"{r.get('errors', '?')} | {'yes' if r['sustained'] else 'no'} |")
    lines += ["", "## Targets", ""] + [f"- {s}" for s in res["summary"]]
    open(md, "w").write("\n".join(lines) + "\n")
    return md


def summarize(runs):
    out = []
    native = runs.get("native", [])
    at5k = next((r for r in native if r["offered"] == 5000), None)
    if at5k:
        out.append(f"native p99 at 5,000 requests/s: {at5k['p99_ms']:.3f} ms (target <= 1 ms: "
                   f"{'met' if at5k['sustained'] and at5k['p99_ms'] <= 1 else 'NOT met'})")
    ml = best(runs.get("mlserver", []))
    if ml and native:
        rt = best(native, ml["p99_ms"])
        ratio = rt["offered"] / ml["offered"] if rt else 0
        out.append(f"MLServer sustains {ml['offered']}/s at p99 {ml['p99_ms']:.2f} ms; rtml native sustains "
                   f"{rt['offered'] if rt else 0}/s at a p99 no higher: {ratio:.1f}x (target >= 10x: "
                   f"{'met' if ratio >= 10 else 'NOT met'}; the highest rate tried bounds it)")
    tf = best(runs.get("tensorflow", []))
    if tf:
        out.append(f"TensorFlow MLP sustains {tf['offered']}/s, p99 {tf['p99_ms']:.2f} ms")
    return out


def main():
    rtml, oip_probe, out_dir = sys.argv[1:4]
    mlpy = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    os.makedirs(out_dir, exist_ok=True)
    res = {"load_start": load_average(), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as work:
        train = data(rtml, work)
        res["runs"]["native"] = run_rtml(rtml, oip_probe, work, train, "native", RATES)
        if "tensorflow: built in" in subprocess.run([rtml, "--version"], capture_output=True, text=True).stdout:
            res["runs"]["tensorflow"] = run_rtml(rtml, oip_probe, work, train, "tensorflow", TF_RATES, export_mlp(work))
        if mlpy:
            res["runs"]["mlserver"] = run_mlserver(mlpy, oip_probe, work, train)
    res["load_end"] = load_average()
    res["summary"] = summarize(res["runs"])
    md = report(res, out_dir)
    for s in res["summary"]:
        print(f"serve: {s}")
    print(f"serve: wrote {md}")


main()
