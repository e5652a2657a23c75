#!/usr/bin/env bash
# scripts/setup.sh — install everything rtml needs to build, test and demo, on a fresh Debian 12 machine.
#
# Idempotent: each step checks first and does nothing when its result is already there (a stamp file keyed
# on the hash of its inputs), so a second run takes a second or two and changes nothing.
#   1. Debian packages (apt-get; run as root): librdkafka, libyaml, clang for libFuzzer, ...
#   2. The Apache Kafka broker jars from Maven Central (deps/kafka/pom.xml) into .deps/kafka/libs
#   3. .venv with the pinned Python packages of deps/requirements.lock (parity tests, benchmarks)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

say() { printf 'setup: %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# ---- 1. Debian packages ---------------------------------------------------------------------------
APT_PACKAGES=(
  build-essential cmake pkg-config     # toolchain (usually present)
  librdkafka-dev                       # Kafka client (2.0.2 in bookworm)
  libyaml-dev                          # config parser
  libjansson-dev                       # JSON documents off the hot path (Avro schemas)
  protobuf-compiler                    # protoc: descriptor sets and test messages for the Protobuf decoder
  clang libclang-rt-14-dev             # libFuzzer (and its runtime) for the fuzz targets
  python3-venv                         # .venv (harmless when python3 is pyenv's)
  maven default-jre-headless           # broker jars (Java 17 is already the default here)
  libmicrohttpd-dev                    # the monitor's HTTP server (/metrics, /healthz, /model, dashboard)
  zlib1g-dev                           # zlib: model versions are deflated on the model topic (modelbus.c)
  prometheus                           # promtool: tests validate /metrics with `promtool check metrics`
  chromium chromium-driver             # the dashboard's browser test (headless)
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. Kafka broker jars -------------------------------------------------------------------------
KAFKA_LIBS="$ROOT/.deps/kafka/libs"
stamp="$KAFKA_LIBS/.stamp-$(hash_of deps/kafka/pom.xml)"
if [ ! -f "$stamp" ]; then
  say "fetching the Kafka broker jars from Maven Central (deps/kafka/pom.xml)"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -B -q -Dstyle.color=never -f deps/kafka/pom.xml dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >"$ROOT/.deps/kafka/mvn.log" 2>&1 \
      || { cat "$ROOT/.deps/kafka/mvn.log" >&2; exit 1; }
  touch "$stamp"
fi

# ---- 3. Python virtual environment ----------------------------------------------------------------
PY=${PYTHON:-python3}
stamp="$ROOT/.venv/.stamp-$(hash_of deps/requirements.lock)"
if [ ! -f "$stamp" ]; then
  say "creating .venv with deps/requirements.lock"
  rm -rf .venv
  "$PY" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --no-input -r deps/requirements.lock >&2
  touch "$stamp"
fi

say "ok ($(pkg-config --modversion rdkafka 2>/dev/null | sed 's/^/librdkafka /'), kafka jars in .deps/kafka/libs, .venv)"
