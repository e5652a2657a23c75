#!/usr/bin/env bash
# scripts/fuzz.sh — the long fuzzing run: each libFuzzer target for minutes instead of make test's 30 s, and
# whatever new inputs add coverage merged back into the kept corpus (tests/fuzz/corpus/<name>/).
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]      TARGET: json, fuzz_json or tests/fuzz/fuzz_json.c (default: all)
#
# It builds build-fuzz/ exactly as scripts/test.sh does (clang, -DRTML_FUZZ=ON, no integration tests, no
# TensorFlow), then for each target:
#   1. copies the kept corpus into a scratch corpus (build-fuzz/long/<name>/, emptied first);
#   2. fuzzes it for N seconds (default 600), new inputs going into the scratch corpus, a crash, leak or
#      timeout into build-fuzz/long/<name>-crash-*, -leak-*, -timeout-* (the run stops there);
#   3. if it found nothing wrong: libFuzzer -merge=1 into tests/fuzz/corpus/<name>/, which adds only those
#      scratch inputs that reach coverage the kept corpus does not (so the kept corpus grows slowly, and
#      `git status` shows what is new).
# Exit status: 0 when no target failed. One target at a time (the machine has two cores; libFuzzer's -jobs
# would only share them). Logs: build-fuzz/long/<name>.log and <name>-merge.log. See docs/fuzzing.md.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_EACH=600
JOBS=${JOBS:-2}
targets=()
while (($#)); do
  case "$1" in
    --seconds)
      [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds needs a positive integer" >&2; exit 2; }
      SECONDS_EACH=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; exit 2 ;;
    *) t=$(basename "$1" .c); targets+=("${t#fuzz_}"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for src in tests/fuzz/fuzz_*.c; do t=$(basename "$src" .c); targets+=("${t#fuzz_}"); done
fi
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz_$t.c" ] || { echo "fuzz.sh: no target '$t' (tests/fuzz/fuzz_$t.c)" >&2; exit 2; }
done

echo "== build-fuzz: clang + libFuzzer + ASan/UBSan =="
mkdir -p build-fuzz
if ! { CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DRTML_FUZZ=ON -DRTML_INTEGRATION=OFF \
         -DRTML_TENSORFLOW=OFF >build-fuzz/configure.log 2>&1 &&
       cmake --build build-fuzz -j"$JOBS" >build-fuzz/build.log 2>&1; }; then
  cat build-fuzz/configure.log build-fuzz/build.log 2>/dev/null | tail -40
  echo "fuzz.sh: the fuzz build failed"
  exit 1
fi

LONG=build-fuzz/long
mkdir -p "$LONG"
failed=()
for t in "${targets[@]}"; do
  name=fuzz_$t
  kept=tests/fuzz/corpus/$t
  work=$LONG/$t
  mkdir -p "$kept"
  rm -rf "$work" && mkdir -p "$work"
  cp -rp "$kept"/. "$work"/
  before=$(find "$kept" -type f | wc -l)
  rm -f "$LONG/$name".log "$LONG/$t"-crash-* "$LONG/$t"-leak-* "$LONG/$t"-timeout-* "$LONG/$t"-oom-*
  echo "== $name: ${SECONDS_EACH}s on $before kept inputs =="
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway allocation is a bug, not the machine's.
  if ASAN_OPTIONS=detect_leaks=1 build-fuzz/"$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$LONG/$t-" "$work" >"$LONG/$name.log" 2>&1; then
    runs=$(grep -Eo 'Done [0-9]+ runs' "$LONG/$name.log" | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$LONG/$name.log" | tail -1)
    # Merge: the kept corpus first, so only scratch inputs with coverage it lacks are copied into it.
    if build-fuzz/"$name" -merge=1 -timeout=10 -rss_limit_mb=2048 "$kept" "$work" >"$LONG/$name-merge.log" 2>&1; then
      after=$(find "$kept" -type f | wc -l)
      echo "$name: ${runs:-no runs?}, ${cov:-no coverage line}, no crash; corpus $before -> $after inputs" \
           "(+$((after - before)) in $kept)"
    else
      tail -20 "$LONG/$name-merge.log"
      echo "$name: fuzzing found nothing, but the merge failed (see $LONG/$name-merge.log)"
      failed+=("$name (merge)")
    fi
  else
    tail -40 "$LONG/$name.log"
    repro=$(ls "$LONG/$t"-crash-* "$LONG/$t"-leak-* "$LONG/$t"-timeout-* "$LONG/$t"-oom-* 2>/dev/null | head -1)
    echo "$name: FAILED; reproduce with: build-fuzz/$name ${repro:-<the input named in $LONG/$name.log>}"
    failed+=("$name")
  fi
done

echo
if ((${#failed[@]})); then
  for f in "${failed[@]}"; do echo "failed: $f"; done
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s), ${SECONDS_EACH}s each, no crash"
