"""layers.py — the architecture check: src/'s folders are layers, and includes point one way only.

    python tests/lint/layers.py [SRC_DIR] [--graph]
The layers, from the bottom (a file may include headers of its own folder and of lower layers; folders on one
line are siblings and do not include each other):
    base                       buffers, log, hash, clock, rng, stats, histograms, binfmt, the value model
    config                     the YAML config, typed
    codec  features  engine    decoders/encoders; feature transforms; model engines (engine/tf inside engine)
    pipeline                   decode -> features -> score -> learn -> evaluate, drift, delayed labels
    state  kafka  monitor  serve   checkpoints and positions; Kafka clients and the model topic; HTTP and metrics;
                               the Open Inference Protocol endpoint
    run                        the daemon: the loop, outputs and transactions, rebalances, workers
    cli                        main and the commands
It also finds cycles between files: a module is a .c and its .h; module A depends on B when A's .c or .h
includes B's .h; any loop in that graph is an error (a file that calls another through a header it includes,
and is called back the same way). For the include graph to be the call graph, a function is declared in the
header of the file that defines it: one header declaring the functions of several files would hide their
calls to each other. The exceptions are the registries, where one interface header names the implementations
that plug into it (REGISTRIES below). Prints each violation with its line; exit 1 if any. --graph prints the
folder graph (which folders include which, with counts) instead."""
import collections
import os
import re
import sys

RANK = {"base": 0, "config": 1, "codec": 2, "features": 2, "engine": 2, "pipeline": 3, "state": 4, "kafka": 4,
        "monitor": 4, "serve": 4, "run": 5, "cli": 6}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# Interface headers whose functions are defined by the implementations that plug into them.
REGISTRIES = {"cli/cli.h": "the commands", "codec/codec.h": "decoders and encoders", "engine/engine.h": "engines",
              "config/sections.h": "config sections"}
PROTO = re.compile(r'^[A-Za-z_][\w \*]*?\b(rtml_\w+)\s*\([^;{]*\)\s*;', re.M)
DEFN = re.compile(r'^([A-Za-z_][\w \*]*?)\b(rtml_\w+)\s*\([^;{]*?\)\s*\{', re.M)
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)


def folder(rel):
    """The layer of a path relative to src/ (engine/tf/x.c is in engine)."""
    return rel.split("/")[0] if "/" in rel else None


def scan(src):
    files = {}
    for d, _, fs in os.walk(src):
        for f in fs:
            if f.endswith((".c", ".h")):
                rel = os.path.relpath(os.path.join(d, f), src)
                text = open(os.path.join(d, f), errors="replace").read()
                files[rel] = [(m.group(1), text.count("\n", 0, m.start()) + 1) for m in INCLUDE.finditer(text)]
    return files


def check(src):
    files, bad = scan(src), []
    edges = collections.defaultdict(set)
    for rel, incs in sorted(files.items()):
        f = folder(rel)
        if f is None or f not in RANK:
            bad.append(f"src/{rel}: not in a layer folder ({', '.join(RANK)})")
            continue
        for inc, line in incs:
            if inc not in files:
                continue  # a system or third-party header in quotes (e.g. the TensorFlow C API)
            g = folder(inc)
            if g is None or g not in RANK:
                continue
            if g != f and RANK[g] >= RANK[f]:
                how = "a sibling" if RANK[g] == RANK[f] else "a higher layer"
                bad.append(f"src/{rel}:{line}: includes {inc}, {how} ({f} -> {g})")
            a, b = os.path.splitext(rel)[0], os.path.splitext(inc)[0]
            if a != b:
                edges[a].add(b)
    for cycle in cycles(edges):
        bad.append("cycle: " + " -> ".join(cycle + [cycle[0]]))
    bad += misplaced_declarations(src)
    return bad, files


def misplaced_declarations(src):
    """Functions declared in one file's header and defined in another file (registries excepted)."""
    declared, defined = {}, {}
    for d, _, fs in os.walk(src):
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), src)
            text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), open(os.path.join(d, f), errors="replace").read())
            if f.endswith(".h"):
                for m in PROTO.finditer(text):
                    declared.setdefault(m.group(1), (rel, text.count("\n", 0, m.start()) + 1))
            elif f.endswith(".c"):
                for m in DEFN.finditer(text):
                    if "static" not in m.group(1):
                        defined[m.group(2)] = rel
    bad = []
    for name, (h, line) in sorted(declared.items()):
        c = defined.get(name)
        if c and os.path.splitext(c)[0] != os.path.splitext(h)[0] and h not in REGISTRIES:
            bad.append(f"src/{h}:{line}: declares {name}, which src/{c} defines (declare it in its own header)")
    return bad


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan), each as one loop through it."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(loop_through(sorted(comp), edges))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def loop_through(comp, edges):
    """One simple loop inside a strongly connected component, starting at its first module."""
    members, start = set(comp), comp[0]
    prev, todo = {start: None}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path))
            if w in members and w not in prev:
                prev[w] = v
                todo.append(w)
    return comp


def graph(files):
    count = collections.Counter()
    for rel, incs in files.items():
        f = folder(rel)
        for inc, _ in incs:
            g = folder(inc) if inc in files else None
            if f and g and f != g:
                count[(f, g)] += 1
    for (f, g), k in sorted(count.items(), key=lambda x: (-RANK.get(x[0][0], 9), x[0])):
        print(f"{f} -> {g} ({k})")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    bad, files = check(src)
    if "--graph" in sys.argv:
        graph(files)
        return 0
    for b in bad:
        print(b)
    print(f"layers: {len(files)} files, {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
