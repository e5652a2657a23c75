#!/usr/bin/env bash
# scripts/test.sh — what `make test` runs: set-up, then every test, in three builds, and one closing line.
#
#   1. build/        RelWithDebInfo, -Werror: every test (unit, CLI, lint, integration on a real broker on port
#                    19092, faults, chaos, TensorFlow, install), two at a time, or one beside two that mostly wait
#                    (RTML_WAITING_TESTS); tests that measure time or memory run alone (RTML_SERIAL_TESTS)
#   2. build-asan/   AddressSanitizer + UndefinedBehaviorSanitizer: the tests labelled asan (every unit test and the
#                    integration and fault tests that drive the C paths; CMakeLists.txt's RTML_ASAN_TESTS)
#   3. build-fuzz/   clang + libFuzzer, without TensorFlow: each fuzz target runs for RTML_FUZZ_SECONDS (default
#                    15) on its corpus, two targets at a time; and `engine: tensorflow` is refused cleanly
# docs/testing.md says what each build runs and why. The last line is "N passed, N failed" over all of them; the
# exit status is non-zero if anything failed. Each stage's wall time is printed.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-2}
FUZZ_SECONDS=${RTML_FUZZ_SECONDS:-15}
passed=0; failed=0; failures=()

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# run_ctest DIR NAME [CTEST ARGS...]: build DIR and run its ctest, adding its counts to the totals.
run_ctest() {
  local dir=$1 name=$2 log="$1/ctest.log"; shift 2
  if ! cmake --build "$dir" -j"$JOBS" >"$dir/build.log" 2>&1; then
    cat "$dir/build.log"; echo "$name: build failed"
    failed=$((failed + 1)); failures+=("$name build"); return
  fi
  # Each test takes two of ctest's processors, those that mostly wait one (CMakeLists.txt's RTML_WAITING_TESTS).
  (cd "$dir" && ctest --output-on-failure --timeout 1200 -j$((2 * JOBS)) "$@" 2>&1) | tee "$log"
  local total fails
  total=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2/p' "$log" | tail -1)
  fails=$(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\1/p' "$log" | tail -1)
  if [ -z "$total" ]; then failed=$((failed + 1)); failures+=("$name: ctest gave no summary"); return; fi
  passed=$((passed + total - fails)); failed=$((failed + fails))
  ((fails == 0)) || failures+=("$name: $(grep -E '^\s+[0-9]+ - ' "$log" | sed 's/^ *//' | tr '\n' ';')")
}

stage_start=0   # SECONDS counts from the start of this script: set-up is the first stage
stage_end() { echo "== $1: $((SECONDS - stage_start)) s =="; stage_start=$SECONDS; }
stage_end "set-up"

echo "== build: RelWithDebInfo, warnings as errors =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
run_ctest build "release"
stage_end "release build and tests"

echo "== build-asan: AddressSanitizer + UndefinedBehaviorSanitizer (tests labelled asan) =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRTML_SANITIZE=ON >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_ctest build-asan "asan" -L asan
stage_end "sanitizer build and tests"

echo "== build-fuzz: libFuzzer, ${FUZZ_SECONDS}s per target =="
if CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRTML_FUZZ=ON -DRTML_INTEGRATION=OFF -DRTML_TENSORFLOW=OFF >/dev/null &&
   cmake --build build-fuzz -j"$JOBS" >build-fuzz/build.log 2>&1; then
  # fuzz_one NAME: run one target on its corpus; its exit status goes to build-fuzz/NAME.rc.
  fuzz_one() {
    local name=$1 corpus=build-fuzz/corpus/${1#fuzz_}
    mkdir -p "$corpus"
    [ -d "tests/fuzz/corpus/${name#fuzz_}" ] && cp -n tests/fuzz/corpus/"${name#fuzz_}"/* "$corpus"/ 2>/dev/null
    (cd build-fuzz && ./"$name" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=./"$name"- "corpus/${name#fuzz_}" >"$name.log" 2>&1)
    echo $? >"build-fuzz/$name.rc"
  }
  names=()
  for target in tests/fuzz/fuzz_*.c; do names+=("$(basename "$target" .c)"); done
  # Two at a time: each target is one process on one core.
  for ((i = 0; i < ${#names[@]}; i += JOBS)); do
    for name in "${names[@]:i:JOBS}"; do fuzz_one "$name" & done
    wait
  done
  for name in "${names[@]}"; do
    if [ "$(cat "build-fuzz/$name.rc" 2>/dev/null)" == 0 ]; then
      echo "fuzz $name: $(grep -Eo 'Done [0-9]+ runs' "build-fuzz/$name.log" | tail -1), no crash"
      passed=$((passed + 1))
    else
      tail -40 "build-fuzz/$name.log"; echo "fuzz $name: FAILED (reproducer in build-fuzz/)"
      failed=$((failed + 1)); failures+=("fuzz $name")
    fi
  done
  # This build has no TensorFlow: engine tensorflow must be refused with a reason, not crash or link-fail.
  printf 'features: [{name: x}]\nmodel:\n  engine: tensorflow\n  tensorflow: {saved_model: m}\n' >build-fuzz/tf.yaml
  build-fuzz/rtml check -c build-fuzz/tf.yaml >/dev/null 2>build-fuzz/tf.err
  if [ $? -eq 2 ] && grep -q 'built without TensorFlow' build-fuzz/tf.err; then
    echo "without TensorFlow: engine tensorflow refused with exit 2 and a reason"
    passed=$((passed + 1))
  else
    cat build-fuzz/tf.err; echo "without TensorFlow: FAILED"
    failed=$((failed + 1)); failures+=("build without TensorFlow")
  fi
else
  cat build-fuzz/build.log 2>/dev/null; echo "fuzz build failed"
  failed=$((failed + 1)); failures+=("fuzz build")
fi

stage_end "fuzz build and targets"
echo
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
