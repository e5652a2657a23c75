#!/usr/bin/env bash
# scripts/setup.sh — install everything rtml needs to build, test and demo, on a fresh Debian 12 machine.
#
# Idempotent: each step checks first and does nothing when its result is already there (a stamp file keyed
# on the hash of its inputs), so a second run takes a second or two and changes nothing.
#   1. Debian packages (apt-get; run as root): libyaml, the -dev packages librdkafka builds on, clang, ...
#   2. librdkafka 2.12.0, built from the source that the npm package node-rdkafka@3.6.1 ships, installed into
#      .deps/librdkafka (rtml links it statically; CMakeLists.txt finds it there)
#   3. The Apache Kafka broker jars from Maven Central (deps/kafka/pom.xml) into .deps/kafka/libs
#   4. .venv with the pinned Python packages of deps/requirements.lock (parity tests, benchmarks)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

say() { printf 'setup: %s\n' "$*" >&2; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# ---- 1. Debian packages ---------------------------------------------------------------------------
APT_PACKAGES=(
  build-essential cmake pkg-config     # toolchain (usually present)
  libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev   # what librdkafka (step 2) is built against
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
  dpkg-dev file                        # the .deb: dpkg-shlibdeps and file find its Depends (CPack)
  systemd man-db                       # tests/install: systemd-analyze verify (the unit), man (the man page)
  valgrind                             # callgrind: the engine and instructions benchmarks (bench/run.sh)
  libsimdjson-dev libxxhash-dev        # bench/choices.cc: simdjson and xxHash beside rtml's own (docs/performance.md)
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

# ---- 2. librdkafka from source ---------------------------------------------------------------------
# Debian 12's librdkafka is 2.0.2 (January 2023); bugs fixed since then reach rtml (a cooperative consumer closed
# before its first assignment aborts the process: librdkafka #4312, fixed in 2.3.0). The npm package
# node-rdkafka@3.6.1 carries librdkafka 2.12.0's complete source in package/deps/librdkafka/; its tarball is
# checked against the digest pinned here. Built once into .deps/librdkafka (static library, headers, pkg-config
# files) and again only when the pin changes. TLS, SASL (GSSAPI, PLAIN, SCRAM, OAUTHBEARER), zstd, lz4 and zlib
# come from Debian's packages (step 1); libcurl (OIDC token retrieval) is left out.
RDKAFKA_VERSION=2.12.0
RDKAFKA_NPM=node-rdkafka@3.6.1
RDKAFKA_SHA256=148f7e7b65c510314c70762d8f1be052c8fe1fdf03a128e6c78083a729a57a30
RDKAFKA_CONFIGURE=(--enable-static --enable-ssl --enable-gssapi --enable-zstd --enable-zlib --enable-lz4-ext
                   --disable-curl --disable-syslog)
RDKAFKA_PREFIX="$ROOT/.deps/librdkafka"
stamp="$RDKAFKA_PREFIX/.stamp-$RDKAFKA_VERSION-$(echo "$RDKAFKA_SHA256 ${RDKAFKA_CONFIGURE[*]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "building librdkafka $RDKAFKA_VERSION from $RDKAFKA_NPM (npm registry) into .deps/librdkafka"
  work="$ROOT/.deps/librdkafka-build"
  command -v npm >/dev/null || { say "npm (Node.js) is needed to fetch librdkafka's source from the npm registry"; exit 1; }
  rm -rf "$work" "$RDKAFKA_PREFIX"; mkdir -p "$work"
  (cd "$work" && npm pack "$RDKAFKA_NPM" --silent >pack.log 2>&1) || { cat "$work/pack.log" >&2; exit 1; }
  tgz=$(ls "$work"/node-rdkafka-*.tgz)
  got=$(sha256sum "$tgz" | cut -d' ' -f1)
  [ "$got" == "$RDKAFKA_SHA256" ] || { say "$tgz: sha256 $got, pinned $RDKAFKA_SHA256"; exit 1; }
  tar xzf "$tgz" -C "$work" package/deps/librdkafka
  src="$work/package/deps/librdkafka"
  grep -q "define RD_KAFKA_VERSION 0x020c00ff" "$src/src/rdkafka.h" || { say "$RDKAFKA_NPM is not librdkafka $RDKAFKA_VERSION"; exit 1; }
  if ! (cd "$src" && ./configure --prefix="$RDKAFKA_PREFIX" "${RDKAFKA_CONFIGURE[@]}" &&
        make -j"$(nproc)" -C src && make -C src install) >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log" >&2; say "building librdkafka failed: see $work/build.log"; exit 1
  fi
  rm -rf "$work"
  touch "$stamp"
fi

# ---- 3. Kafka broker jars -------------------------------------------------------------------------
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

# ---- 4. Python virtual environment ----------------------------------------------------------------
PY=${PYTHON:-python3}
stamp="$ROOT/.venv/.stamp-$(hash_of deps/requirements.lock)"
if [ ! -f "$stamp" ]; then
  # A changed lock updates the venv in place (pip installs what differs: seconds, not the minutes of a new
  # TensorFlow; a lock that only adds packages, like tests/serve's tritonclient, costs seconds, and a .venv that
  # work trees share through a symlink is never removed under the others); a venv missing or broken is made afresh.
  if [ -x .venv/bin/pip ] && .venv/bin/python -c '' 2>/dev/null; then
    say "updating .venv to deps/requirements.lock"
  else
    say "creating .venv with deps/requirements.lock"
    rm -rf .venv
    "$PY" -m venv .venv
  fi
  .venv/bin/pip install -q --disable-pip-version-check --no-input -r deps/requirements.lock >&2
  rm -f .venv/.stamp-*
  touch "$stamp"
fi

say "ok (librdkafka $RDKAFKA_VERSION in .deps/librdkafka, kafka jars in .deps/kafka/libs, .venv)"
