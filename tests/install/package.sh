#!/usr/bin/env bash
# rtml installed as a user installs it, from the build directory this test runs in (no broker):
#   1. the .deb that CPack builds: its control fields (Depends covers every shared library the binary needs),
#      maintainer scripts and contents, unpacked with `dpkg-deb -x` into a scratch root;
#   2. the files it installs, each in its place;
#   3. the installed binary: --version (which TensorFlow library, from which setting, or none), `check` on every
#      installed example, `replay` of a generated stream (and, with TensorFlow, through the TensorFlow example
#      with the library named by RTML_TENSORFLOW_LIBRARY);
#   4. the man page: renders without warnings, has a section for every command of `rtml --help` and an entry
#      for every option of every `rtml COMMAND --help`;
#   5. the systemd unit: its settings, and `systemd-analyze verify` accepts it;
#   6. `cmake --install` into a prefix (and with DESTDIR): the same files in the usual places, paths inside
#      them pointing at that prefix, an edited etc/default/rtml kept by a second install.
set -euo pipefail # before anything is sourced: a missing library must fail the test, not skip it
source "$RTML_ROOT/tests/lib/common.sh"

BUILD=$(cd "$(dirname "$RTML_BIN")" && pwd)
[ -f "$BUILD/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $BUILD (RTML_BIN must be a cmake build's rtml)"
VERSION=$("$RTML" --version | sed -n 's/^rtml //p')
COUNTS='r["records"], r["learned"], r["errors"]'
HOW='set model\.tensorflow\.library in the config or the environment variable RTML_TENSORFLOW_LIBRARY to '
TF=0
if "$RTML" --version | grep -q '^tensorflow: built in'; then TF=1; fi

# ---- 1. the .deb ------------------------------------------------------------------------------------------
expect_exit 0 "cpack builds the .deb" -- cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$T/pkg"
DEB=$T/pkg/rtml_${VERSION}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || fail "cpack wrote no $DEB: $(ls "$T/pkg")"
pass "the .deb is $(basename "$DEB"), $(stat -c %s "$DEB") bytes"
expect_exit 0 "dpkg-deb --info reads it" -- dpkg-deb --info "$DEB"
expect_grep '^ Package: rtml$' "$T/out" "package name"
expect_grep "^ Version: $VERSION\$" "$T/out" "version is the binary's ($VERSION)"
expect_grep '^ Maintainer: .+' "$T/out" "a maintainer"
expect_grep '^ Description: real-time machine learning on Kafka streams$' "$T/out" "a description"
DEPENDS=$(dpkg-deb --field "$DEB" Depends)
pass "Depends: $DEPENDS"
has_dep() { [[ ", $DEPENDS," == *", $1 "* || ", $DEPENDS," == *", $1,"* ]]; }
has_dep adduser || fail "Depends lacks adduser (postinst creates the user rtml)"
has_dep libc6 || fail "Depends lacks libc6"
dpkg-deb -x "$DEB" "$T/root"
R=$T/root/usr/bin/rtml
# Every shared library the installed binary links (its NEEDED entries, found where ldd finds them) must come
# from a Debian package that Depends names.
ldd "$R" >"$T/ldd"
readelf -d "$R" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | while read -r soname; do
  awk -v s="$soname" '$1 == s && $2 == "=>" {print s, $3; exit} $1 ~ "/" s "$" {print s, $1; exit}' "$T/ldd"
done >"$T/needed"
[ "$(wc -l <"$T/needed")" -eq "$(readelf -d "$R" | grep -c '(NEEDED)')" ] ||
  { cat "$T/ldd"; fail "ldd did not find every NEEDED library"; }
[ -s "$T/needed" ] || fail "readelf found no shared libraries in $R"
while read -r soname path; do
  owner=$(dpkg -S "$path" 2>/dev/null || dpkg -S "$(realpath "$path")" 2>/dev/null || true)
  [ -n "$owner" ] || fail "$soname ($path) is in no Debian package: the .deb cannot declare it"
  pkg=${owner%%:*}
  has_dep "$pkg" || fail "$soname comes from $pkg, which Depends lacks"
done <"$T/needed"
pass "Depends covers all $(wc -l <"$T/needed") shared libraries of the binary"
dpkg-deb -e "$DEB" "$T/control"
for s in postinst prerm postrm; do
  [ -x "$T/control/$s" ] || fail "the .deb has no executable $s"
  sh -n "$T/control/$s" || fail "$s is not valid sh"
done
pass "maintainer scripts postinst, prerm, postrm: present, executable, valid sh"
expect_grep 'adduser --system --group' "$T/control/postinst" "postinst creates the system user rtml"
expect_eq "$(cat "$T/control/conffiles")" /etc/default/rtml "conffiles: /etc/default/rtml"
dpkg-deb -c "$DEB" >"$T/contents"
if grep -q 'libtensorflow' "$T/contents"; then fail "the .deb carries a TensorFlow library"; fi
pass "no TensorFlow library in the .deb"

# ---- 2. the files, in their places --------------------------------------------------------------------------
[ -x "$R" ] || fail "no executable usr/bin/rtml"
MAN=$T/root/usr/share/man/man1/rtml.1.gz
UNIT=$T/root/usr/lib/systemd/system/rtml@.service
EX=$T/root/usr/share/doc/rtml/examples
for f in "$MAN" "$UNIT" "$T/root/etc/default/rtml" "$T/root/usr/share/doc/rtml/README.md" \
         "$T/root/usr/share/doc/rtml/docs/operations.md"; do
  [ -f "$f" ] || fail "the .deb has no ${f#"$T/root"}"
done
[ -d "$T/root/etc/rtml" ] || fail "the .deb has no /etc/rtml"
expect_eq "$(cd "$EX" && echo *)" "$(cd "$RTML_ROOT/examples" && echo *)" "every example is installed"
pass "binary, man page, unit, /etc/default/rtml, /etc/rtml, README, docs and examples in place"

# ---- 3. the installed binary ---------------------------------------------------------------------------------
expect_exit 0 "installed rtml --version" -- "$R" --version
expect_grep "^rtml $VERSION\$" "$T/out" "--version names rtml $VERSION"
expect_grep '^librdkafka 2\.' "$T/out" "--version names librdkafka"
if ((TF)); then
  expect_grep '^tensorflow: built in \(2\.[0-9.]+\)$' "$T/out" "TensorFlow loaded"
  expect_grep "^tensorflow library: /.+/libtensorflow_cc\.so\.2 \(from the build's default\)\$" "$T/out" \
    "--version names the library file it loaded and that the build's default chose it"
  TF_LIB=$(sed -n "s/^tensorflow library: \(.*\) (from the build's default)\$/\1/p" "$T/out")
  TF_DIR=$(dirname "$TF_LIB")
  expect_exit 0 "--version with RTML_TENSORFLOW_LIBRARY=a directory" -- \
    env RTML_TENSORFLOW_LIBRARY="$TF_DIR" "$R" --version
  expect_grep "^tensorflow library: $TF_DIR/libtensorflow_cc\.so\.2 \(from RTML_TENSORFLOW_LIBRARY\)\$" "$T/out" \
    "the directory resolves to its libtensorflow_cc.so.2"
  expect_exit 0 "--version where there is no TensorFlow" -- env RTML_TENSORFLOW_LIBRARY="$T/no-tf" "$R" --version
  expect_grep '^tensorflow: built in \(cannot be loaded\)$' "$T/out" "says TensorFlow cannot be loaded"
  expect_grep "^tensorflow library: none found: $T/no-tf \(from RTML_TENSORFLOW_LIBRARY\): No such file[^;]*; $HOW" \
    "$T/out" "says none was found, the path tried and the settings that choose one"
else
  expect_grep '^tensorflow: not built in$' "$T/out" "--version says TensorFlow is not built in"
fi

# `check` on every installed example, from an empty working directory as a new user would run it.
mkdir -p "$T/work"
cd "$T/work"
for ex in "$EX"/*.yaml; do
  name=$(basename "$ex")
  if grep -q '^  engine: tensorflow' "$ex"; then continue; fi
  expect_exit 0 "check $name" -- "$R" check -c "$ex"
  expect_grep '^  bootstrap\.servers: ' "$T/out" "check $name prints the resolved config"
done
TFEX=$EX/tensorflow.yaml
[ -f "$TFEX" ] || fail "no installed tensorflow.yaml"
if ((TF)); then
  expect_exit 2 "check tensorflow.yaml before its model is exported" -- "$R" check -c "$TFEX"
  expect_grep 'models/sea' "$T/err" "names the SavedModel directory to export"
  expect_exit 2 "check tensorflow.yaml without a TensorFlow library" -- \
    env RTML_TENSORFLOW_LIBRARY="$T/no-tf" "$R" check -c "$TFEX"
  expect_grep "tensorflow.yaml: cannot load TensorFlow: $T/no-tf \(from RTML_TENSORFLOW_LIBRARY\): No such file" \
    "$T/err" "names the file tried and the setting that chose it"
  expect_grep "$HOW" "$T/err" "names the settings to change"
  sed "s|^    saved_model: models/sea .*|&\n    library: $T/no-tf-key|" "$TFEX" >"$T/tf-key.yaml"
  expect_exit 2 "check with model.tensorflow.library set to a missing file" -- "$R" check -c "$T/tf-key.yaml"
  expect_grep "cannot load TensorFlow: $T/no-tf-key \(from model\.tensorflow\.library\)" "$T/err" \
    "the config key is used and named"
  sed "s|^    saved_model: models/sea .*|&\n    library: [a]|" "$TFEX" >"$T/tf-bad.yaml"
  expect_exit 2 "check with model.tensorflow.library not a string" -- "$R" check -c "$T/tf-bad.yaml"
  expect_grep "tf-bad.yaml:[0-9]+: model\.tensorflow\.library: must be a string" "$T/err" "names file, line and key"
  # The model the example's header says to export, exported as it says.
  PYTHONPATH="$RTML_ROOT/python" "$PY" -c 'import keras, rtml_tf.export as ex; ex.export(keras.Sequential([
      keras.Input((3,), name="x"), keras.layers.Dense(16, activation="relu"),
      keras.layers.Dense(1, activation="sigmoid")]), "models/sea", loss="binary_crossentropy",
      optimizer="adam", learning_rate=0.01, version=1)' >"$T/export.log" 2>&1 || { cat "$T/export.log"; fail "export"; }
  expect_exit 0 "check tensorflow.yaml with its model exported" -- "$R" check -c "$TFEX"
  expect_grep '^    saved_model: models/sea$' "$T/out" "check prints the TensorFlow section"
else
  expect_exit 2 "check tensorflow.yaml in a build without TensorFlow" -- "$R" check -c "$TFEX"
  expect_grep 'built without TensorFlow' "$T/err" "says this rtml has no TensorFlow"
fi

# replay: a generated stream through the installed quickstart example.
"$R" gen --stream sea --n 2000 --seed 7 >"$T/sea.jsonl"
expect_eq "$(wc -l <"$T/sea.jsonl")" 2000 "installed rtml gen writes 2000 records"
expect_exit 0 "replay the quickstart example" -- \
  "$R" replay -c "$EX/quickstart.yaml" --input - --output "$T/pred.jsonl" <"$T/sea.jsonl"
expect_eq "$(json_get "$T/out" "$COUNTS")" "(2000, 2000, 0)" "replay reads and learns every record"
expect_eq "$(json_get "$T/out" 'r["metrics"]["accuracy"] > 0.75')" True "replay accuracy above 0.75"
expect_eq "$(wc -l <"$T/pred.jsonl")" 2000 "one prediction per record"
if ((TF)); then
  expect_exit 0 "replay the tensorflow example, library from RTML_TENSORFLOW_LIBRARY" -- \
    env RTML_TENSORFLOW_LIBRARY="$TF_DIR" "$R" replay -c "$TFEX" --input "$T/sea.jsonl"
  expect_eq "$(json_get "$T/out" "$COUNTS")" "(2000, 2000, 0)" "TensorFlow replay reads and learns every record"
  [ -f models/sea/2/saved_model.pb ] || fail "the TensorFlow replay wrote no trained version models/sea/2"
  pass "the trained model is written as models/sea/2"
fi
cd "$T"

# ---- 4. the man page -----------------------------------------------------------------------------------------
expect_exit 0 "man renders the page" -- env LC_ALL=C MANWIDTH=250 MANPAGER=cat man --warnings -l "$MAN"
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "man warned while rendering the page"; }
cp "$T/out" "$T/man.txt"
pass "no warnings from groff"
expect_grep "^rtml $VERSION " "$T/man.txt" "the page is rtml $VERSION's"
# section CMD: the man page's text of `rtml CMD`, from its heading to the next one.
section() {
  awk -v c="   rtml $1" '/^[A-Z]/ || /^   rtml / {on = 0}
                          index($0, c " ") == 1 || $0 == c {on = 1; next}
                          on' "$T/man.txt"
}
"$R" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p' >"$T/commands"
[ "$(wc -l <"$T/commands")" -ge 10 ] || fail "found $(wc -l <"$T/commands") commands in rtml --help, expected >= 10"
while read -r cmd; do
  section "$cmd" >"$T/sec"
  [ -s "$T/sec" ] || fail "the man page has no section for rtml $cmd"
  { "$R" "$cmd" --help
    if [ "$cmd" = model ]; then for sub in list show pin unpin rollback publish; do "$R" model "$sub" --help; done; fi
  } | grep -oE -- '(^|[ [(,])--[a-z][a-z-]*' | sed 's/^[ [(,]//' | sort -u | grep -vx -- '--help' >"$T/options" || true
  [ -s "$T/options" ] || fail "found no options in rtml $cmd --help"
  while read -r opt; do
    grep -qE -- "^       (-[a-z], )?$opt( |,|\$)" "$T/sec" || fail "the man page's rtml $cmd has no entry for $opt"
  done <"$T/options"
  pass "man page: rtml $cmd and its $(wc -l <"$T/options") options"
done <"$T/commands"
for word in RTML_TENSORFLOW_LIBRARY model.tensorflow.library /etc/rtml/NAME.yaml /var/lib/rtml/NAME/ SIGTERM; do
  grep -qF -- "$word" "$T/man.txt" || fail "the man page does not mention $word"
done
pass "man page: the TensorFlow library setting, the files, SIGTERM"

# ---- 5. the systemd unit -------------------------------------------------------------------------------------
for line in 'ExecStart=/usr/bin/rtml run -c /etc/rtml/%i.yaml' 'EnvironmentFile=-/etc/default/rtml' 'User=rtml' \
            'StateDirectory=rtml/%i' 'WorkingDirectory=%S/rtml/%i' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
            'ProtectHome=yes' 'PrivateTmp=yes' 'CapabilityBoundingSet=' 'KillSignal=SIGTERM' 'TimeoutStopSec=120' \
            'Restart=on-failure' 'RestartPreventExitStatus=2'; do
  grep -qxF -- "$line" "$UNIT" || fail "the unit lacks the line $line"
done
pass "the unit: ExecStart, user rtml, state directory, hardening, SIGTERM stop, restarts"
# verify checks that ExecStart's binary exists on this machine and that `man rtml(1)` (Documentation=) finds the
# page: verify a copy whose ExecStart is the scratch root's binary (checking that this is the copy's only
# difference), with MANPATH at the scratch root's man pages.
mkdir -p "$T/unit"
sed "s|^ExecStart=/usr/bin/rtml |ExecStart=$R |" "$UNIT" >"$T/unit/rtml@.service"
expect_eq "$(diff "$UNIT" "$T/unit/rtml@.service" | grep -c '^[<>]' || true)" 2 "the copy differs in ExecStart only"
expect_exit 0 "systemd-analyze verify accepts the unit" -- \
  env MANPATH="$T/root/usr/share/man" systemd-analyze verify "$T/unit/rtml@.service"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || { cat "$T/out" "$T/err" >&2; fail "systemd-analyze verify complained"; }
pass "systemd-analyze verify: no complaint"
sed 's/^ProtectSystem=/ProtectSytem=/' "$T/unit/rtml@.service" >"$T/unit/typo@.service"
MANPATH="$T/root/usr/share/man" systemd-analyze verify "$T/unit/typo@.service" >"$T/out" 2>&1 || true
expect_grep "Unknown key 'ProtectSytem'" "$T/out" "a misspelt key is caught (the check above can fail)"

# ---- 6. cmake --install -------------------------------------------------------------------------------------
P=$T/prefix
expect_exit 0 "cmake --install --prefix" -- cmake --install "$BUILD" --prefix "$P"
for f in bin/rtml share/man/man1/rtml.1.gz lib/systemd/system/rtml@.service etc/default/rtml share/doc/rtml/README.md \
         share/doc/rtml/examples/{quickstart,fraud,tensorflow}.yaml; do
  [ -f "$P/$f" ] || fail "cmake --install put no $f under the prefix"
done
[ -d "$P/etc/rtml" ] || fail "cmake --install made no etc/rtml"
pass "cmake --install: bin, share/man/man1, share/doc/rtml/examples, lib/systemd/system, etc/default, etc/rtml"
grep -qxF "ExecStart=$P/bin/rtml run -c $P/etc/rtml/%i.yaml" "$P/lib/systemd/system/rtml@.service" ||
  fail "the prefix's unit does not run $P/bin/rtml on $P/etc/rtml/%i.yaml"
grep -qxF "EnvironmentFile=-$P/etc/default/rtml" "$P/lib/systemd/system/rtml@.service" ||
  fail "the prefix's unit reads no $P/etc/default/rtml"
pass "the prefix's unit names the prefix's binary, configs and environment file"
expect_exit 0 "systemd-analyze verify the prefix's unit as installed" -- \
  env MANPATH="$P/share/man" systemd-analyze verify "$P/lib/systemd/system/rtml@.service"
[ ! -s "$T/out" ] && [ ! -s "$T/err" ] || { cat "$T/out" "$T/err" >&2; fail "systemd-analyze verify complained"; }
expect_exit 0 "the prefix's rtml --version" -- "$P/bin/rtml" --version
expect_grep "^rtml $VERSION\$" "$T/out" "the prefix's rtml runs"
echo 'RTML_LOG_FORMAT=json' >>"$P/etc/default/rtml"
expect_exit 0 "cmake --install again over the prefix" -- cmake --install "$BUILD" --prefix "$P"
expect_grep '^RTML_LOG_FORMAT=json$' "$P/etc/default/rtml" "a second install keeps the edited etc/default/rtml"
expect_exit 0 "cmake --install --prefix /usr with DESTDIR" -- \
  env DESTDIR="$T/staged" cmake --install "$BUILD" --prefix /usr
for f in usr/bin/rtml usr/lib/systemd/system/rtml@.service etc/default/rtml; do
  [ -f "$T/staged/$f" ] || fail "DESTDIR install put no $f"
done
grep -qxF 'ExecStart=/usr/bin/rtml run -c /etc/rtml/%i.yaml' "$T/staged/usr/lib/systemd/system/rtml@.service" ||
  fail "with prefix /usr the unit must name /usr/bin/rtml and /etc/rtml"
pass "prefix /usr under DESTDIR: configs in /etc, as in the .deb"
