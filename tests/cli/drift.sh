#!/usr/bin/env bash
# drift.sh — CLI tests of `rtml drift`: help, bad usage and bad input (exit 2, naming the option or the line),
# and the detections on a short stream whose answer is known (River 0.26.1 gives the same lines; the
# exhaustive comparison is tests/parity/drift.sh). Needs RTML_BIN. One line per check; non-zero if any failed.
set -euo pipefail
: "${RTML_BIN:?RTML_BIN must name the rtml binary}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

# run ARGS...: rtml drift ARGS, stdout in $tmp/out, stderr in $tmp/err, exit code in $rc
run() {
    rc=0
    "$RTML_BIN" drift "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}

# usage_error WHAT PATTERN ARGS...: exit 2, stderr matching PATTERN, nothing on stdout
usage_error() {
    local what=$1 pattern=$2
    shift 2
    run "$@"
    if [ "$rc" -eq 2 ] && grep -qE -- "$pattern" "$tmp/err" && [ ! -s "$tmp/out" ]; then
        ok "$what (exit 2: $(head -n1 "$tmp/err"))"
    else
        bad "$what: drift $* -> exit $rc, stdout $(head -c 100 "$tmp/out"), stderr: $(head -c 200 "$tmp/err")"
    fi
}

# ---- help ----
run --help
if [ "$rc" -eq 0 ] && grep -q -- '--detector' "$tmp/out" && grep -q -- '--warning-level' "$tmp/out"; then
    ok "drift --help exits 0 and lists the options"
else
    bad "drift --help: exit $rc"
fi
"$RTML_BIN" --help | grep -q '^  drift ' && ok "rtml --help lists drift" || bad "rtml --help does not list drift"

# ---- bad usage ----
printf '0\n1\n' >"$tmp/two.txt"
usage_error "no --detector" '--detector is required' "$tmp/two.txt"
usage_error "unknown detector" "unknown detector 'kswin'" --detector kswin "$tmp/two.txt"
usage_error "--threshold does not apply to adwin" '--threshold does not apply to --detector adwin' \
    --detector adwin --threshold 10 "$tmp/two.txt"
usage_error "--delta does not apply to ddm" '--delta does not apply to --detector ddm' \
    --detector ddm --delta 0.1 "$tmp/two.txt"
usage_error "--warning-level does not apply to page_hinkley" '--warning-level does not apply' \
    --detector page_hinkley --warning-level 2 "$tmp/two.txt"
usage_error "--delta out of range" 'delta must be in \(0, 1\)' --detector adwin --delta 0 "$tmp/two.txt"
usage_error "--alpha not a number" "--alpha: 'x' is not a number" --detector page_hinkley --alpha x "$tmp/two.txt"
usage_error "--min-instances not an integer" "--min-instances: '-3' is not a non-negative integer" \
    --detector ddm --min-instances -3 "$tmp/two.txt"
usage_error "two files" "unexpected argument" --detector adwin "$tmp/two.txt" "$tmp/two.txt"

# ---- bad input: exit 2 naming the line ----
printf '0\n1\nabc\n0\n' >"$tmp/bad.txt"
usage_error "a line that is not a number" "bad.txt:3: not a number: 'abc'" --detector adwin "$tmp/bad.txt"
printf '0.5\n1x\n' >"$tmp/bad2.txt"
usage_error "trailing garbage" "bad2.txt:2: not a number" --detector page_hinkley "$tmp/bad2.txt"
printf '0\n\n1\n' >"$tmp/blank.txt"
usage_error "an empty line" "blank.txt:2: not a number" --detector adwin "$tmp/blank.txt"
printf '0\n1\n0.5\n' >"$tmp/half.txt"
usage_error "ddm reads only bits" "half.txt:3: ddm reads error bits" --detector ddm "$tmp/half.txt"
printf '0\nnan\n' >"$tmp/nan.txt"
usage_error "nan is not a number here" "nan.txt:2: not a number" --detector adwin "$tmp/nan.txt"
run --detector adwin "$tmp/missing.txt"
[ "$rc" -eq 1 ] && grep -q 'cannot open' "$tmp/err" && ok "a missing file exits 1" || bad "missing file: exit $rc"

# ---- known detections: 100 zeros then 100 ones ----
for i in $(seq 100); do echo 0; done >"$tmp/step.txt"
for i in $(seq 100); do echo 1; done >>"$tmp/step.txt"
# expect DETECTOR LINES...: the output of rtml drift --detector DETECTOR on the step, exactly
expect() {
    local det=$1
    shift
    run --detector "$det" "$tmp/step.txt"
    printf '%s\n' "$@" >"$tmp/want"
    if [ "$rc" -eq 0 ] && cmp -s "$tmp/out" "$tmp/want"; then
        ok "$det on the step: $(head -n1 "$tmp/out")"
    else
        bad "$det on the step: exit $rc, got $(tr '\n' ' ' <"$tmp/out"), want $(tr '\n' ' ' <"$tmp/want")"
    fi
}
# ADWIN checks every 32 values: at value 128 it cuts the old zeros, bucket by bucket, down to 28 + 28.
expect adwin '{"index":127,"estimation":0.5,"width":56,"change_at":72}' '{"values":200,"detections":1}'
# DDM: after 100 zeros p_min = s_min = 0, so the first error is beyond any multiple of s_min.
expect ddm '{"index":100,"estimation":0.009900990099009901,"width":101,"change_at":100}' \
    '{"values":200,"detections":1}'
# Page-Hinkley: the sum of x - mean - 0.005 grows from its minimum (at the last zero) past 50.
expect page_hinkley '{"index":166,"estimation":0.40119760479041916,"width":167,"change_at":100}' \
    '{"values":200,"detections":1}'

# stdin, and "-", give the same as the file
"$RTML_BIN" drift --detector adwin <"$tmp/step.txt" >"$tmp/stdin.out"
"$RTML_BIN" drift --detector adwin - <"$tmp/step.txt" >"$tmp/dash.out"
"$RTML_BIN" drift --detector adwin "$tmp/step.txt" >"$tmp/file.out"
cmp -s "$tmp/stdin.out" "$tmp/file.out" && cmp -s "$tmp/dash.out" "$tmp/file.out" \
    && ok "stdin and - read like a file" || bad "stdin output differs from the file's"
# a tuned setting changes the answer: a larger grace period and a looser delta
run --detector adwin --delta 0.5 --min-instances 150 "$tmp/step.txt"
grep -q '"index":159' "$tmp/out" && ok "--delta/--min-instances are applied ($(head -n1 "$tmp/out"))" \
    || bad "tuned adwin: $(tr '\n' ' ' <"$tmp/out")"
# blanks and CRLF around a number are fine
printf ' 0 \r\n1\t\n' >"$tmp/blanks.txt"
run --detector adwin "$tmp/blanks.txt"
[ "$rc" -eq 0 ] && grep -q '"values":2' "$tmp/out" && ok "blanks and CRLF around numbers" || bad "blanks: exit $rc"

echo "$fails failed"
[ "$fails" -eq 0 ]
