# tests/faults/lib/secrets.sh — shared by sasl.sh and ssl.sh (sourced after common.sh): the right
# password is $PASS, a wrong one $WRONG.

# no_secret FILE... : neither password (nor the base64 of the right one) occurs in any of the files.
no_secret() {
  local f b64; b64=$(printf '%s' "$PASS" | base64 -w0)
  for f in "$@"; do
    if grep -qF -e "$PASS" -e "$WRONG" -e "$b64" "$f"; then
      grep -nF -e "$PASS" -e "$WRONG" -e "$b64" "$f" | sed -n 1,3p | cut -c1-300 >&2
      fail "a password leaked into $(basename "$f")"
    fi
  done
}

# stream_without_secrets CONFIG WHAT DUMP_KEY URL: `rtml run` over CONFIG (whose kafka section has debug: all)
# at RTML_LOG_LEVEL=debug until idle: all $N records processed, no password in its stdout or stderr,
# librdkafka's configuration dump shows DUMP_KEY as [redacted], and its clients connected to URL. Leaves the
# report in $T/report.json and the log in $T/run.err.
stream_without_secrets() {
  expect_exit 0 "rtml run through $2, debug: all, RTML_LOG_LEVEL=debug" -- \
    env RTML_LOG_LEVEL=debug "$RTML" run -c "$1" --exit-on-idle 5
  cp "$T/out" "$T/report.json"; cp "$T/err" "$T/run.err"
  expect_eq "$(json_get "$T/report.json" 'r["records"]')" "$N" "records processed"
  no_secret "$T/report.json" "$T/run.err"
  pass "no password in rtml run's stdout or its $(wc -l <"$T/run.err") lines of debug log"
  expect_grep "$3 = \[redacted\]" "$T/run.err" "librdkafka's configuration dump was logged, redacted"
  expect_grep "$4" "$T/run.err" "rtml's clients connected through $4"
}
