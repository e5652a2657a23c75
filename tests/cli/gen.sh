#!/usr/bin/env bash
# gen.sh — CLI tests of `rtml gen`: help, bad usage (exit 2), the JSON lines it writes, determinism, --output,
# write errors (exit 1) and a reader that goes away (no hang). Needs RTML_BIN (the rtml binary) and python3.
# Prints one line per check; exits non-zero if any check failed.
set -euo pipefail
: "${RTML_BIN:?RTML_BIN must name the rtml binary}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
gen() { # gen ARGS...: run rtml gen (output redirected by the caller); a failure is reported, not fatal
    local rc=0
    "$RTML_BIN" gen "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then bad "gen $* exited $rc"; fi
}
check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

# ---- help ----
rc=0
"$RTML_BIN" gen --help >"$tmp/help" 2>"$tmp/err" || rc=$?
check "gen --help exits 0" test "$rc" -eq 0
check "gen --help mentions --stream" grep -q -- '--stream' "$tmp/help"

# ---- bad usage: exit 2, a 'rtml gen:' message on stderr, nothing on stdout ----
expect_usage() {
    local rc=0
    "$RTML_BIN" gen "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ "$rc" -eq 2 ] && grep -q '^rtml gen: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
        ok "bad usage exits 2 with a message: gen $*"
    else
        bad "bad usage: gen $* -> exit $rc, stderr: $(head -c 200 "$tmp/err")"
    fi
}
expect_usage --stream sea
expect_usage --n 10
expect_usage --stream nosuch --n 10
expect_usage --stream sea --n 0
expect_usage --stream sea --n -3
expect_usage --stream sea --n 10x
expect_usage --stream sea --n 10 --seed 1x
expect_usage --stream sea --n 10 --noise 0.7
expect_usage --stream sea --n 10 --noise -0.1x
expect_usage --stream sea --n 10 --noise -0.1
expect_usage --stream sea --n 10 --variant 4
expect_usage --stream sea --n 10 --drift-at 5 --drift-to 0
expect_usage --stream sea --n 10 --drift-width 5
expect_usage --stream sea --n 10 --features 3
expect_usage --stream hyperplane --n 10 --variant 1
expect_usage --stream hyperplane --n 10 --features 0
expect_usage --stream hyperplane --n 10 --sigma-flip 2
expect_usage --stream sea --n 10 --no-such-option
expect_usage --stream sea --n 10 stray-argument
expect_usage --stream sea --n

# ---- 1000 SEA records: JSON lines, unique ids, features in range, 0/1 labels, quiet stderr ----
gen --stream sea --n 1000 --seed 7 >"$tmp/sea.jsonl" 2>"$tmp/err"
check "sea: stderr is empty when it is not a terminal" test ! -s "$tmp/err"
check "sea: 1000 records parse as JSON lines with 1000 unique ids" python3 -c '
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 1000, len(rows)
assert len({r["id"] for r in rows}) == 1000
assert [r["id"] for r in rows] == list(range(1000))
for r in rows:
    assert list(r) == ["id", "x1", "x2", "x3", "label"], list(r)
    assert all(0 <= r[k] < 10 for k in ("x1", "x2", "x3")), r
    assert r["label"] in (0, 1), r
' "$tmp/sea.jsonl"

gen --stream hyperplane --n 500 --features 4 --id-offset 1000 --mag-change 0.01 \
    --drift-at 250 --drift-width 50 >"$tmp/hyp.jsonl"
check "hyperplane: 4 features in [0,1), ids from --id-offset" python3 -c '
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert [r["id"] for r in rows] == list(range(1000, 1500))
for r in rows:
    assert list(r) == ["id", "x1", "x2", "x3", "x4", "label"], list(r)
    assert all(0 <= r["x%d" % i] < 1 for i in range(1, 5)), r
    assert r["label"] in (0, 1), r
' "$tmp/hyp.jsonl"

# ---- determinism ----
gen --stream sea --n 1000 --seed 7 >"$tmp/sea2.jsonl"
check "same seed -> identical output" cmp -s "$tmp/sea.jsonl" "$tmp/sea2.jsonl"
gen --stream sea --n 1000 --seed 8 >"$tmp/sea3.jsonl"
check "different seed -> different output" test "$(cmp -s "$tmp/sea.jsonl" "$tmp/sea3.jsonl" && echo same)" != same

# ---- --output ----
gen --stream sea --n 1000 --seed 7 --output "$tmp/out.jsonl" >"$tmp/stdout"
check "--output FILE writes the same records" cmp -s "$tmp/sea.jsonl" "$tmp/out.jsonl"
check "--output FILE leaves stdout empty" test ! -s "$tmp/stdout"
rc=0
"$RTML_BIN" gen --stream sea --n 10 --output "$tmp/no/such/dir/x" 2>"$tmp/err" || rc=$?
check "--output into a missing directory exits 1 with a message" \
    test "$rc" -eq 1 -a -s "$tmp/err"

# ---- write errors: a full disk is exit 1, not silent truncation ----
if [ -w /dev/full ]; then
    rc=0
    "$RTML_BIN" gen --stream sea --n 100000 --output /dev/full 2>"$tmp/err" || rc=$?
    check "--output /dev/full exits 1 with a message" test "$rc" -eq 1 -a -s "$tmp/err"
    rc=0
    "$RTML_BIN" gen --stream sea --n 10 >/dev/full 2>"$tmp/err" || rc=$?
    check "stdout on /dev/full (small output, caught at flush) exits 1" test "$rc" -eq 1 -a -s "$tmp/err"
else
    echo "skip - /dev/full not available"
fi

# ---- a reader that goes away: no hang (SIGPIPE or exit 1, either is fine) ----
start=$(date +%s)
first=$(timeout 60 bash -c '"$0" gen --stream sea --n 10000000 | head -1' "$RTML_BIN" || true)
took=$(($(date +%s) - start))
check "gen | head -1 ends quickly (${took}s)" test "$took" -lt 30
check "gen | head -1 got one JSON record" python3 -c 'import json, sys; json.loads(sys.argv[1])' "$first"
# With SIGPIPE ignored the write fails with EPIPE instead, which must be exit 1.
rc=$(timeout 60 bash -c 'trap "" PIPE; "$0" gen --stream sea --n 10000000 2>/dev/null | head -1 >/dev/null;
     echo "${PIPESTATUS[0]}"' "$RTML_BIN" || echo timeout)
check "with SIGPIPE ignored, a closed pipe is exit 1 (got $rc)" test "$rc" = 1

if [ "$fails" -ne 0 ]; then
    echo "gen.sh: $fails check(s) failed"
    exit 1
fi
echo "gen.sh: all checks passed"
