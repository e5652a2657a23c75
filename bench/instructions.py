"""instructions.py - the `instructions` benchmark: instructions per record of `rtml replay`, by stage (callgrind).

usage: instructions.py RTML_BINARY RESULTS_DIR   (bench/run.sh instructions calls it; env: BENCH_DATA,
       BENCH_INSTR_N (20000), BENCH_BASELINE_BIN (an older rtml to measure beside it, e.g. the last release))

Why callgrind: this machine has no hardware counters (`perf stat -e instructions:u` is "not supported"), and
an instruction count is deterministic, so it compares from run to run on a busy machine where a records/s
figure moves by 20%. Instructions are not time (a division or a cache miss counts one), but the per-record
path is compute-bound and the count tracks it.

Streams (as the engine scenario's): dense = `rtml gen --stream hyperplane --features 10 --n N --seed 1`, 10
`standardize` features, logistic regression (sgd); cat = `bench/gen_categorical.py N 1`, 40 string fields
hashed into 2^20 / 40 buckets each, FTRL. Each: `rtml replay -c CONFIG --input FILE --output /dev/null` under
`valgrind --tool=callgrind`, then the inclusive cost of each stage's functions:
  decode     the input format's decoder (json_decode: scan, extract, convert)
  featurize  rtml_featurizer_apply
  model      the engine's predict and learn (linear_*, ftrl_*, ...)
  eval       rtml_eval_add (prequential metrics) and the drift detector
  encode     the prediction record (rtml_pipeline_encode)
  rest       the record loop's own work: reading lines, the micro-batch, handing predictions out
  start/exit the process outside the record loop: dynamic loading, config, opening, the report
"per record" is each figure / N; "end to end" is the whole process / N (what the issue's targets count).
Writes RESULTS_DIR/<date>-instructions.md and .json; prints a summary.
"""
import datetime
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
N = int(os.environ.get("BENCH_INSTR_N", 20000))
TARGETS = {"dense": 3000, "cat": 8000}
FIELDS, TOTAL_BUCKETS = 40, 1 << 20

# stage -> regular expressions over function names (callgrind_annotate's "file:function"); inclusive costs add up
STAGES = {
    "decode": [r"^(json|csv|avro|protobuf)_decode$"],
    "featurize": [r"^rtml_featurizer_apply$"],
    "model": [r"^(linear|ftrl|softmax|mlp|tf)_(predict|learn|learn_scored)$"],
    "eval": [r"^rtml_eval_add$", r"^rtml_pipeline_drift_observe$"],
    # the older binary encoded inline in rtml_pipeline_flush: its number and string writers stand in for it
    "encode": [r"^rtml_pipeline_encode$", r"^rtml_buf_put_double$", r"^rtml_buf_put_i64$",
               r"^rtml_json_put_string$"],
}
LOOP = [r"^replay_stream$"]


def prepare(rtml, data):
    os.makedirs(data, exist_ok=True)
    files = {"dense": f"{data}/instr-dense-{N}.jsonl", "cat": f"{data}/instr-cat-{N}.jsonl"}
    if not os.path.exists(files["dense"]):
        with open(files["dense"] + ".tmp", "w") as f:
            subprocess.run([rtml, "gen", "--stream", "hyperplane", "--features", "10", "--n", str(N), "--seed", "1"],
                           stdout=f, check=True)
        os.rename(files["dense"] + ".tmp", files["dense"])
    if not os.path.exists(files["cat"]):
        with open(files["cat"] + ".tmp", "w") as f:
            subprocess.run([PY, f"{HERE}/gen_categorical.py", str(N), "1"], stdout=f, check=True)
        os.rename(files["cat"] + ".tmp", files["cat"])
    dense = "".join(f"  - {{name: x{i}, field: /x{i}, transforms: [standardize]}}\n" for i in range(1, 11))
    cat = "".join(f"  - {{name: c{i}, field: /c{i}, transforms: [{{hash: {TOTAL_BUCKETS // FIELDS}}}]}}\n"
                  for i in range(FIELDS))
    models = {"dense": "  type: logistic\n  optimizer: {name: sgd, learning_rate: 0.05}\n",
              "cat": "  type: ftrl\n  ftrl: {alpha: 0.1, beta: 1.0}\n"}
    configs = {}
    for kind, feats in (("dense", dense), ("cat", cat)):
        configs[kind] = f"{data}/instr-{kind}.yaml"
        with open(configs[kind], "w") as f:
            f.write(f"input: {{format: json}}\nfeatures:\n{feats}label: {{field: /label}}\nmodel:\n{models[kind]}")
    return files, configs


def annotated(out):
    """(inclusive instructions, "file:function [object]") for each line of callgrind_annotate's listing."""
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out], capture_output=True,
                         text=True, check=True).stdout
    for line in ann.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$", line)
        if m:
            yield int(m.group(1).replace(",", "")), m.group(2)


def inclusive(out):
    """{function name: inclusive instructions} and the program total, from callgrind_annotate."""
    costs, total = {}, None
    for n, what in annotated(out):
        if "PROGRAM TOTALS" in what:
            total = n
            continue
        what = re.sub(r"\s+\[[^\]]*\]$", "", what)  # the object file
        name = what.rsplit(":", 1)[-1]
        name = re.sub(r"\.(isra|part|constprop)\.\d+", "", name)
        if ":" in what and what.split(":", 1)[0].endswith((".h", ".c", ".cc")) and costs.get(name, 0) >= n:
            continue  # an inlined part listed under the caller: the function's own line is larger
        costs[name] = max(costs.get(name, 0), n)
    return costs, total


def self_top(out, k=12):
    ann = subprocess.run(["callgrind_annotate", "--inclusive=no", out], capture_output=True, text=True).stdout
    lines = ann.splitlines()
    start = next((i for i, l in enumerate(lines) if "file:function" in l), 0)
    return [l for l in lines[start + 2:start + 2 + k] if l.strip()]


def measure(rtml, config, data, tag, workdir):
    out = f"{workdir}/callgrind-instr-{tag}.out"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", rtml, "replay", "-c", config,
                    "--input", data, "--output", "/dev/null"], capture_output=True, text=True, check=True)
    costs, total = inclusive(out)

    def stage(patterns):
        return sum(v for name, v in costs.items() if any(re.match(p, name) for p in patterns))

    stages = {s: stage(p) for s, p in STAGES.items()}
    loop = stage(LOOP)
    if loop:
        stages["rest"] = loop - sum(stages.values())
        stages["start/exit"] = total - loop
    return {"total": total, "per_record": total / N, "stages": {s: v / N for s, v in stages.items()},
            "top": self_top(out)}


CHOICES = {  # bench/choices.cc's contenders: (function, stream, what it is)
    "decode_rtml": ("dense", "rtml's JSON decoder, 11 paths"),
    "decode_simdjson_ptr": ("dense", "simdjson On-Demand, at_pointer per path"),
    "decode_simdjson_scan": ("dense", "simdjson On-Demand, one pass over the fields"),
    "hash_murmur3": ("cat", "MurmurHash3 of NAME=value, 40 fields"),
    "hash_xxh3": ("cat", "XXH3-64 of the value seeded by the field, 40 fields"),
}


def choices(rtml, files, workdir):
    """bench/choices.cc (build-dir/bench_choices beside the rtml binary) under callgrind: each contender's
    inclusive instructions per record, and its checksums (the decoders must agree). None without the binary
    (a build without simdjson or xxHash)."""
    binary = os.path.join(os.path.dirname(os.path.abspath(rtml)), "bench_choices")
    if not os.path.exists(binary):
        return None
    out = f"{workdir}/callgrind-choices.out"
    run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, files["dense"],
                          files["cat"]], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"instructions: bench_choices failed (the decoders disagree?): {run.stdout}{run.stderr}")
    got = dict.fromkeys(CHOICES, 0)
    for n, what in annotated(out):  # C++ names carry "::" and arguments: matched by the function's own name
        for name in CHOICES:
            if re.search(rf"\b{name}\(", what):
                got[name] = max(got[name], n / N)
    return got


def commit():
    """The source tree's commit (+ "with changes" when src/ or the build has uncommitted ones), or "an unknown
    tree"."""
    def git(*args):
        return subprocess.run(["git", "-C", HERE, *args], capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "an unknown tree"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "src", "cmake", "CMakeLists.txt")
    return f"commit {head}" + (" with changes" if changed else "")


def main():
    rtml, results_dir = sys.argv[1], sys.argv[2]
    data = os.environ.get("BENCH_DATA", "/tmp/rtml-bench")
    baseline = os.environ.get("BENCH_BASELINE_BIN")
    os.makedirs(results_dir, exist_ok=True)
    files, configs = prepare(rtml, data)
    runs = {}
    for kind in ("dense", "cat"):
        print(f"instructions: {kind}, {N} records, callgrind", flush=True)
        runs[kind] = {"rtml": measure(rtml, configs[kind], files[kind], kind, data)}
        if baseline:
            runs[kind]["baseline"] = measure(baseline, configs[kind], files[kind], f"{kind}-baseline", data)

    picked = choices(rtml, files, data)
    stamp = datetime.date.today().isoformat()
    md, js = f"{results_dir}/{stamp}-instructions.md", f"{results_dir}/{stamp}-instructions.json"
    names = ["decode", "featurize", "model", "eval", "encode", "rest", "start/exit"]
    out = [f"# instructions per record, {stamp}\n",
           f"Reproduce: `BENCH_INSTR_N={N}" + (f" BENCH_BASELINE_BIN={baseline}" if baseline else "")
           + f" bench/run.sh instructions` (measured: {commit()}). callgrind counts every instruction "
           "of `rtml replay -c CONFIG --input FILE --output /dev/null` (deterministic: this machine has no "
           "hardware counters); a stage is the inclusive count of its functions (bench/instructions.py), "
           "divided by the records.\n",
           "**dense**: `rtml gen --stream hyperplane --features 10`, 10 standardize features, logistic sgd, JSON "
           "in and out. **cat**: `bench/gen_categorical.py`, 40 string fields hashed into 2^20 buckets, FTRL.\n",
           "| stream | binary | " + " | ".join(names) + " | end to end | target |",
           "|---|---|" + "---:|" * (len(names) + 2)]
    for kind, r in runs.items():
        for who in ("baseline", "rtml"):
            if who not in r:
                continue
            st = r[who]["stages"]
            cells = [f"{st[s]:,.0f}" if s in st else "-" for s in names]
            label = "this rtml" if who == "rtml" else f"baseline ({os.path.basename(os.path.dirname(baseline))}"\
                    f"/{os.path.basename(baseline)})"
            out.append(f"| {kind} | {label} | " + " | ".join(cells) + f" | **{r[who]['per_record']:,.0f}** | "
                       f"<= {TARGETS[kind]:,} |")
    if picked:
        out += ["\n**The choices** (`bench/choices.cc`, the same records, each contender's inclusive instructions "
                "per record; why each was kept: docs/performance.md):\n",
                "| contender | stream | instructions per record |", "|---|---|---:|"]
        out += [f"| {what} (`{name}`) | {CHOICES[name][0]} | {picked[name]:,.0f} |"
                for name, (_, what) in CHOICES.items()]
    out.append("\nThe largest self costs (instructions over the whole run; callgrind_annotate --inclusive=no):\n")
    for kind, r in runs.items():
        out += [f"### {kind}\n", "```", *r["rtml"]["top"], "```\n"]
    with open(md, "w") as f:
        f.write("\n".join(out) + "\n")
    with open(js, "w") as f:
        doc = {k: {w: {x: v[x] for x in ("per_record", "stages")} for w, v in r.items()} for k, r in runs.items()}
        if picked:
            doc["choices"] = picked
        json.dump(doc, f, indent=1)
    for kind, r in runs.items():
        print(f"instructions: {kind:5} {r['rtml']['per_record']:>8,.0f} per record end to end (target "
              f"{TARGETS[kind]:,})" + (f", baseline {r['baseline']['per_record']:,.0f}" if "baseline" in r else ""))
    print(f"instructions: wrote {md}")


if __name__ == "__main__":
    main()
