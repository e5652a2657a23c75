#!/usr/bin/env bash
# scripts/kafka.sh — local Apache Kafka brokers for development, tests and the demo.
#
#   scripts/kafka.sh start|stop|status|restart|wipe [--port N] [--sasl | --ssl]
#   scripts/kafka.sh ssl-files --ssl [--port N]
#   scripts/kafka.sh start|stop|status|restart|wipe --brokers 3 [--port N]
#   scripts/kafka.sh start-node|stop-node|kill-node K --brokers 3 [--port N]
#
# Single broker (the default): one combined broker+controller KRaft node on 127.0.0.1:PORT (default 9092, or
# $RTML_KAFKA_PORT), its controller on PORT+1, running the jars that scripts/setup.sh fetched into
# .deps/kafka/libs. Data, config and server.log live in .run/kafka-PORT/ (ignored by git), so brokers on
# different ports never meet.
#   start    idempotent; returns once the broker answers a metadata request (deadline: 90 s)
#   stop     stops only the process this script started (pid file + command line check), waits for it
#   status   prints "running pid N on 127.0.0.1:PORT" (exit 0) or "stopped" (exit 3)
#   wipe     stop, then remove the broker's directory (its topics and offsets)
#
# --sasl (single broker): the same broker plus a SASL_PLAINTEXT listener on PORT+2 offering SCRAM-SHA-256
# and PLAIN, for testing clients that authenticate. PLAINTEXT on PORT stays open for administration (topics,
# test producers and readers). One user for both mechanisms: $RTML_KAFKA_SASL_USER (default "rtml"), password
# $RTML_KAFKA_SASL_PASSWORD (default "rtml-test-secret", a test-only value; letters, digits and "._-" only,
# because of --add-scram's syntax). The SCRAM credential is created when the log dir is formatted
# (StorageTool --add-scram); PLAIN's lives in the listener's JAAS config in server.properties. PLAIN is there
# because librdkafka before 2.6.1 (Debian 12 ships 2.0.2) fails SCRAM against Kafka 4.x: it repeats the
# client nonce in its final message, which Kafka 4 rejects as invalid credentials (librdkafka PR #4895).
# Its directory is .run/kafka-PORT-sasl/, apart from the plain broker's, so the two never share a log dir
# formatted for the other; every command for it needs --sasl. Another credential needs `wipe --sasl` first
# (start checks).
#
# --ssl (single broker): the same broker plus an SSL listener on PORT+3 that requires a client certificate
# (ssl.client.auth=required: mutual TLS). PLAINTEXT on PORT stays open for administration. Its directory is
# .run/kafka-PORT-ssl/; its first start makes, with openssl, under .run/kafka-PORT-ssl/tls/:
#   ca.pem, ca.key          a throwaway CA (10 years), trusted by the broker for client certificates
#   broker.keystore.pem     the broker's key (encrypted PKCS#8, its password in broker.pass) and certificate
#                           (CN=localhost, SAN DNS:localhost, IP:127.0.0.1), a PEM keystore
#   client.pem, client.key  a client certificate (CN=rtml) and its key, encrypted (PKCS#8, AES-256) with
#                           $RTML_KAFKA_SSL_KEY_PASSWORD (default "rtml-test-key-secret", a test-only value);
#                           made again, from the same CA, when that password changes (client.tag holds its digest)
# start returns once a client presenting client.pem authenticates on the SSL listener. `ssl-files --ssl` prints
# the librdkafka properties for that listener (bootstrap.servers, security.protocol, ssl.*.location; the key
# password is not printed). Every command for this broker needs --ssl; --ssl and --sasl go one at a time.
#
# --proxied N (single broker): the same broker plus a PLAINTEXT listener on PORT+4 that advertises itself as
# 127.0.0.1:N, where a test runs a proxy to PORT+4 (tests/lib/kafka_proxy.py): a client bootstrapping at N
# connects to every broker through the proxy, which can cut a connection at a chosen request.
#
# --brokers 3 (cluster): three combined broker+controller nodes forming one 3-voter KRaft quorum (static
# controller.quorum.voters), so the cluster keeps a quorum and serves with any one node down.
#   node K (1..3)   broker 127.0.0.1:PORT+K-1, controller 127.0.0.1:PORT+10+K-1, dir .run/kafka-cluster-PORT/node-K/
#                   (server.properties, data/, server.log, broker.pid); the cluster id in .run/kafka-cluster-PORT/
#   defaults        default.replication.factor=3, min.insync.replicas=2; __consumer_offsets and the transaction
#                   and share-state topics RF 3 with min ISR 2
#   start           starts the nodes that are not running; returns once every node answers a metadata request
#                   listing all 3 brokers (deadline: 150 s)
#   stop, wipe      all nodes; status: one line per node, exit 0 only when all 3 run (else 3)
#   stop-node K     a clean stop of node K (SIGTERM: controlled shutdown moves its leaderships first)
#   kill-node K     a crash of node K (SIGKILL: the controller fences it after broker.session.timeout.ms)
#   start-node K    starts node K again; returns once it answers metadata listing all 3 brokers (deadline: 90 s)
# Each cluster JVM gets a small heap (-Xmx384m): three of them share the machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${RTML_KAFKA_PORT:-9092}
NBROKERS=1
SASL=0
SSL=0
PROXIED=
NODE=
cmd=${1:-}; shift || true
case "$cmd" in start-node | stop-node | kill-node) NODE=${1:-}; shift || true ;; esac
while (($#)); do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    --brokers) NBROKERS=$2; shift 2 ;;
    --sasl) SASL=1; shift ;;
    --ssl) SSL=1; shift ;;
    --proxied) PROXIED=$2; shift 2 ;;
    *) echo "kafka.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
LIBS="$ROOT/.deps/kafka/libs"
SASL_USER=${RTML_KAFKA_SASL_USER:-rtml}
SASL_PASSWORD=${RTML_KAFKA_SASL_PASSWORD:-rtml-test-secret}
SSL_KEY_PASSWORD=${RTML_KAFKA_SSL_KEY_PASSWORD:-rtml-test-key-secret}

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() {
  echo "usage: scripts/kafka.sh start|stop|status|restart|wipe [--port N] [--sasl | --ssl | --brokers 3] [--proxied N]" >&2
  echo "       scripts/kafka.sh ssl-files --ssl [--port N]" >&2
  echo "       scripts/kafka.sh start-node|stop-node|kill-node K --brokers 3 [--port N]" >&2
  exit 2
}

case "$NBROKERS" in 1 | 3) ;; *) echo "kafka.sh: --brokers must be 1 or 3, got '$NBROKERS'" >&2; exit 2 ;; esac
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "kafka.sh: --port must be a number, got '$PORT'" >&2; exit 2; }
if ((SASL && NBROKERS != 1)); then echo "kafka.sh: --sasl is for a single broker" >&2; exit 2; fi
if ((SSL && NBROKERS != 1)); then echo "kafka.sh: --ssl is for a single broker" >&2; exit 2; fi
if ((SSL && SASL)); then echo "kafka.sh: --ssl and --sasl: one at a time" >&2; exit 2; fi
if [ -n "$PROXIED" ]; then
  [[ "$PROXIED" =~ ^[0-9]+$ ]] || { echo "kafka.sh: --proxied must be a port, got '$PROXIED'" >&2; exit 2; }
  ((NBROKERS == 1)) || { echo "kafka.sh: --proxied is for a single broker" >&2; exit 2; }
fi
if [ -n "$NODE" ] || [[ "$cmd" == *-node ]]; then
  ((NBROKERS == 3)) || { echo "kafka.sh: $cmd needs --brokers 3" >&2; exit 2; }
  [[ "$NODE" =~ ^[123]$ ]] || { echo "kafka.sh: $cmd needs a node number 1, 2 or 3, got '$NODE'" >&2; exit 2; }
fi

# ---- one node: its directory is the whole of its identity ------------------------------------------------

# The pid of the node we started in DIR, or nothing (a stale pid file, or a pid reused by another program,
# does not count: the command line must name our config file).
node_pid() {
  local dir=$1 pid
  [ -f "$dir/broker.pid" ] || return 0
  pid=$(cat "$dir/broker.pid")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$dir/server.properties"; then
    echo "$pid"
  fi
}

# answers_metadata BOOT [WANT [sasl|ssl]]: does the broker at BOOT answer a metadata request listing at least
# WANT brokers? (Python client from .venv: independent of rtml's build.) With "sasl" it authenticates as the
# SASL user, once with each mechanism (the password goes through the environment, not the command line). With
# "ssl" it connects over TLS, verifying the broker against the CA and presenting the client certificate.
answers_metadata() {
  RTML_KS_SASL=${3:-} RTML_KS_USER=$SASL_USER RTML_KS_PASSWORD=$SASL_PASSWORD \
    RTML_KS_TLS=${TLS:-} RTML_KS_KEYPW=$SSL_KEY_PASSWORD \
    "$ROOT/.venv/bin/python" - "$1" "${2:-1}" <<'EOF' >/dev/null 2>&1
import os, sys
from confluent_kafka.admin import AdminClient
confs = [{"bootstrap.servers": sys.argv[1]}]
if os.environ["RTML_KS_SASL"] == "sasl":
    confs = [{"bootstrap.servers": sys.argv[1], "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mech,
              "sasl.username": os.environ["RTML_KS_USER"], "sasl.password": os.environ["RTML_KS_PASSWORD"]}
             for mech in ("SCRAM-SHA-256", "PLAIN")]
elif os.environ["RTML_KS_SASL"] == "ssl":
    tls = os.environ["RTML_KS_TLS"]
    confs = [{"bootstrap.servers": sys.argv[1], "security.protocol": "SSL", "ssl.ca.location": tls + "/ca.pem",
              "ssl.certificate.location": tls + "/client.pem", "ssl.key.location": tls + "/client.key",
              "ssl.key.password": os.environ["RTML_KS_KEYPW"]}]
for conf in confs:
    if len(AdminClient(conf).list_topics(timeout=2).brokers) < int(sys.argv[2]):
        sys.exit(1)
EOF
}

write_log4j() {
  cat >"$1/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$1/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
EOF
}

# java_cmd DIR HEAP: the JVM command line for a node (into the array JAVA).
java_cmd() {
  local xms=256m xmx=768m
  if [ "$2" == small ]; then xms=128m; xmx=384m; fi
  JAVA=(java -Xms$xms -Xmx$xmx -XX:+UseG1GC -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$1/log4j2.properties" -cp "$LIBS/*")
}

# launch DIR: start the node whose config is in DIR, in the background; its pid goes to DIR/broker.pid.
launch() {
  nohup "${JAVA[@]}" kafka.Kafka "$1/server.properties" >"$1/stdout.log" 2>&1 </dev/null &
  echo $! >"$1/broker.pid"
  echo $!
}

# stop_node_dir DIR SIGNAL: signal the node we started in DIR and wait for it to exit (a TERM that does not
# finish within 45 s becomes a KILL). Prints the pid it stopped, or nothing when none was running.
stop_node_dir() {
  local pid; pid=$(node_pid "$1")
  if [ -z "$pid" ]; then rm -f "$1/broker.pid"; return 0; fi
  kill "-$2" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 45))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.2
  done
  rm -f "$1/broker.pid"
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ---- single broker (optionally with a SASL or an SSL listener) -----------------------------------------

CPORT=$((PORT + 1))
SPORT=$((PORT + 2))
TPORT=$((PORT + 3))
BOOT="127.0.0.1:$PORT"
if ((SASL)); then DIR="$ROOT/.run/kafka-$PORT-sasl"; elif ((SSL)); then DIR="$ROOT/.run/kafka-$PORT-ssl"; else DIR="$ROOT/.run/kafka-$PORT"; fi
TLS="$DIR/tls"

write_config() {
  mkdir -p "$DIR/data"
  local listeners="PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT"
  local advertised="PLAINTEXT://127.0.0.1:$PORT" protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if ((SASL)); then
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$SPORT"
    advertised+=",SASL_PLAINTEXT://127.0.0.1:$SPORT"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  if [ -n "$PROXIED" ]; then # clients that bootstrap through the proxy are told to connect to it again
    listeners+=",PROXIED://127.0.0.1:$((PORT + 4))"
    advertised+=",PROXIED://127.0.0.1:$PROXIED"
    protocols+=",PROXIED:PLAINTEXT"
  fi
  if ((SSL)); then
    listeners+=",SSL://127.0.0.1:$TPORT"
    advertised+=",SSL://127.0.0.1:$TPORT"
    protocols+=",SSL:SSL"
  fi
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  if ((SASL)); then
    # Only the SASL listener authenticates. The server side of SCRAM needs no options (the credentials live
    # in the cluster metadata, put there at format time); PLAIN's server side lists its users (user_NAME).
    cat >>"$DIR/server.properties" <<EOF
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-256,PLAIN
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
EOF
  fi
  if ((SSL)); then
    # Only the SSL listener speaks TLS; it trusts the test CA alone and refuses a client without a certificate.
    cat >>"$DIR/server.properties" <<EOF
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$TLS/broker.keystore.pem
listener.name.ssl.ssl.key.password=$(cat "$TLS/broker.pass")
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$TLS/ca.pem
listener.name.ssl.ssl.client.auth=required
EOF
  fi
  write_log4j "$DIR"
}

# tls_openssl WHAT ARGS...: run openssl, its output into $TLS/openssl.log; dies naming WHAT if it fails.
tls_openssl() {
  local what=$1; shift
  openssl "$@" >>"$TLS/openssl.log" 2>&1 || die "openssl could not make $what: see $TLS/openssl.log"
}

# The digest of the client key's password (never the password itself).
client_tag() { printf '%s' "$SSL_KEY_PASSWORD" | sha256sum | cut -d' ' -f1; }

# tls_server: the throwaway CA and the broker's PEM keystore, made once (only while the broker is not running:
# a running broker trusts the CA it started with).
tls_server() {
  [ -f "$TLS/ca.pem" ] && [ -f "$TLS/ca.key" ] && [ -f "$TLS/broker.keystore.pem" ] && [ -f "$TLS/broker.pass" ] && return 0
  command -v openssl >/dev/null || die "--ssl needs openssl"
  rm -rf "$TLS"
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  (umask 077
   od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$TLS/broker.pass"
   printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >"$TLS/broker.ext")
  tls_openssl "the CA" req -x509 -newkey rsa:2048 -nodes -keyout "$TLS/ca.key" -out "$TLS/ca.pem" -days 3650 \
    -subj "/CN=rtml test CA $PORT" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  tls_openssl "the broker key" req -newkey rsa:2048 -nodes -keyout "$TLS/broker.key" -out "$TLS/broker.csr" -subj "/CN=localhost"
  tls_openssl "the broker certificate" x509 -req -in "$TLS/broker.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 3650 -extfile "$TLS/broker.ext" -out "$TLS/broker.pem"
  # Kafka's PEM keystore: an encrypted PKCS#8 key followed by the certificate chain. The key's cipher is
  # PKCS#12's PBE-SHA1-3DES: Java 17 cannot read openssl's default (PBES2: "PBES2 SecretKeyFactory not available").
  tls_openssl "the broker keystore" pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$TLS/broker.key" -out "$TLS/broker.key.p8" \
    -passout "file:$TLS/broker.pass"
  cat "$TLS/broker.key.p8" "$TLS/broker.pem" >"$TLS/broker.keystore.pem"
  rm -f "$TLS/broker.key" "$TLS/broker.key.p8" "$TLS/broker.csr" "$TLS/broker.ext"
  chmod 600 "$TLS"/*
}

# tls_client: the client's certificate and encrypted key, made again when RTML_KAFKA_SSL_KEY_PASSWORD changed.
tls_client() {
  [ -f "$TLS/client.pem" ] && [ -f "$TLS/client.key" ] && [ "$(cat "$TLS/client.tag" 2>/dev/null)" == "$(client_tag)" ] && return 0
  [ -f "$TLS/ca.key" ] || die "$TLS has no CA key: run 'scripts/kafka.sh wipe --ssl --port $PORT'"
  [ -n "$SSL_KEY_PASSWORD" ] || die "RTML_KAFKA_SSL_KEY_PASSWORD must not be empty"
  rm -f "$TLS/client.pem" "$TLS/client.key" "$TLS/client.tag"
  (umask 077; printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >"$TLS/client.ext")
  # The password reaches openssl through the environment, never its command line.
  RTML_KS_KEYPW=$SSL_KEY_PASSWORD tls_openssl "the client key" req -newkey rsa:2048 -keyout "$TLS/client.key" \
    -passout env:RTML_KS_KEYPW -out "$TLS/client.csr" -subj "/CN=rtml"
  tls_openssl "the client certificate" x509 -req -in "$TLS/client.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 3650 -extfile "$TLS/client.ext" -out "$TLS/client.pem"
  rm -f "$TLS/client.csr" "$TLS/client.ext"
  chmod 600 "$TLS/client.key"
  client_tag >"$TLS/client.tag"
}

# ssl-files: the librdkafka properties of the SSL listener, as lines of a config's kafka: section.
ssl_files() {
  ((SSL)) || { echo "kafka.sh: ssl-files needs --ssl" >&2; exit 2; }
  [ -f "$TLS/client.pem" ] || die "no TLS files in $TLS yet: run 'scripts/kafka.sh start --ssl --port $PORT' first"
  cat <<EOF
bootstrap.servers: 127.0.0.1:$TPORT
security.protocol: SSL
ssl.ca.location: $TLS/ca.pem
ssl.certificate.location: $TLS/client.pem
ssl.key.location: $TLS/client.key
# ssl.key.password: the RTML_KAFKA_SSL_KEY_PASSWORD of the last 'start --ssl' (default rtml-test-key-secret)
EOF
}

# The user and a digest of the password the SASL log dir was formatted with (never the password itself).
scram_tag() { printf '%s %s\n' "$SASL_USER" "$(printf '%s' "$SASL_PASSWORD" | sha256sum | cut -d' ' -f1)"; }

start() {
  [ -d "$LIBS" ] || die "no broker jars in $LIBS: run scripts/setup.sh first"
  local pid; pid=$(node_pid "$DIR")
  if ((SSL)); then
    if [ -z "$pid" ]; then tls_server; fi
    tls_client
  fi
  if [ -n "$pid" ] && answers_metadata "$BOOT" && { ((!SSL)) || answers_metadata "127.0.0.1:$TPORT" 1 ssl; }; then
    echo "kafka already running (pid $pid) on $BOOT"; return 0
  fi
  if [ -z "$pid" ] && port_in_use "$PORT"; then
    die "port $PORT is in use by a process this script did not start"
  fi
  if [ -z "$pid" ]; then
    write_config
    java_cmd "$DIR" default
    local scram=()
    if ((SASL)); then
      [[ "$SASL_USER$SASL_PASSWORD" =~ ^[A-Za-z0-9._-]+$ ]] ||
        die "RTML_KAFKA_SASL_USER/RTML_KAFKA_SASL_PASSWORD: letters, digits and ._- only"
      port_in_use "$SPORT" && die "port $SPORT (the SASL listener) is in use by a process this script did not start"
      scram=(--add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]")
      if [ -f "$DIR/data/meta.properties" ] && [ "$(cat "$DIR/scram.tag" 2>/dev/null)" != "$(scram_tag)" ]; then
        die "$DIR was formatted with another SASL user or password: run 'scripts/kafka.sh wipe --sasl --port $PORT'"
      fi
    fi
    if ((SSL)); then
      port_in_use "$TPORT" && die "port $TPORT (the SSL listener) is in use by a process this script did not start"
    fi
    if [ ! -f "$DIR/data/meta.properties" ]; then
      local id; id=$("${JAVA[@]}" kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log")
      "${JAVA[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$DIR/server.properties" "${scram[@]}" \
        >>"$DIR/format.log" 2>&1 || die "formatting the log dir failed: see $DIR/format.log"
      if ((SASL)); then scram_tag >"$DIR/scram.tag"; fi
    fi
    pid=$(launch "$DIR")
  fi
  local deadline=$((SECONDS + 90))
  until answers_metadata "$BOOT"; do
    kill -0 "$pid" 2>/dev/null || die "broker exited during start: see $DIR/server.log and $DIR/stdout.log"
    ((SECONDS < deadline)) || die "broker did not answer metadata requests within 90 s: see $DIR/server.log"
    sleep 0.5
  done
  if ((SASL)); then
    # The plain listener answering does not prove the SCRAM one works: authenticate once.
    local sboot="127.0.0.1:$SPORT"
    until answers_metadata "$sboot" 1 sasl; do
      ((SECONDS < deadline)) || die "the SASL listener on $sboot did not authenticate $SASL_USER within 90 s: see $DIR/server.log"
      sleep 0.5
    done
    echo "kafka running (pid $pid) on $BOOT, SASL_PLAINTEXT (SCRAM-SHA-256, PLAIN) on $sboot (user $SASL_USER)"
    return 0
  fi
  if ((SSL)); then
    # Likewise the TLS listener: connect once with the client certificate.
    local tboot="127.0.0.1:$TPORT"
    until answers_metadata "$tboot" 1 ssl; do
      kill -0 "$pid" 2>/dev/null || die "broker exited during start: see $DIR/server.log and $DIR/stdout.log"
      ((SECONDS < deadline)) || die "the SSL listener on $tboot did not accept the client certificate within 90 s: see $DIR/server.log"
      sleep 0.5
    done
    echo "kafka running (pid $pid) on $BOOT, SSL (client certificate required) on $tboot; TLS files in $TLS ('scripts/kafka.sh ssl-files --ssl --port $PORT')"
    return 0
  fi
  echo "kafka running (pid $pid) on $BOOT"
}

stop() {
  local pid; pid=$(stop_node_dir "$DIR" TERM)
  if [ -z "$pid" ]; then echo "kafka not running on port $PORT"; return 0; fi
  echo "kafka stopped (pid $pid)"
}

status() {
  local pid; pid=$(node_pid "$DIR")
  if [ -n "$pid" ]; then echo "running pid $pid on $BOOT"; else echo "stopped"; exit 3; fi
}

# ---- a 3-node cluster ---------------------------------------------------------------------------------

CDIR="$ROOT/.run/kafka-cluster-$PORT"
node_dir() { echo "$CDIR/node-$1"; }
node_port() { echo $((PORT + $1 - 1)); }
node_cport() { echo $((PORT + 10 + $1 - 1)); }
ALL_BOOT="127.0.0.1:$PORT,127.0.0.1:$((PORT + 1)),127.0.0.1:$((PORT + 2))"

cluster_write_config() {
  local k=$1 dir; dir=$(node_dir "$1")
  mkdir -p "$dir/data"
  local voters="1@127.0.0.1:$(node_cport 1),2@127.0.0.1:$(node_cport 2),3@127.0.0.1:$(node_cport 3)"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$k
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_port "$k"),CONTROLLER://127.0.0.1:$(node_cport "$k")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$k")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF
  write_log4j "$dir"
}

# Format every node that has no meta.properties yet, in parallel, with the cluster's one id. A static quorum
# (controller.quorum.voters) needs no --standalone / --initial-controllers.
cluster_format() {
  local id pids=() k dir
  mkdir -p "$CDIR"
  write_log4j "$CDIR"
  java_cmd "$CDIR" small
  if [ ! -f "$CDIR/cluster.id" ]; then
    "${JAVA[@]}" kafka.tools.StorageTool random-uuid >"$CDIR/cluster.id" 2>>"$CDIR/format.log" ||
      die "no cluster id: see $CDIR/format.log"
  fi
  id=$(cat "$CDIR/cluster.id")
  for k in 1 2 3; do
    dir=$(node_dir $k)
    [ -f "$dir/data/meta.properties" ] && continue
    "${JAVA[@]}" kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >>"$dir/format.log" 2>&1 &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || die "formatting a node's log dir failed: see $CDIR/node-*/format.log"; done
}

# Start node K unless it runs; prints its pid.
cluster_launch() {
  local k=$1 dir pid; dir=$(node_dir "$1")
  pid=$(node_pid "$dir")
  if [ -n "$pid" ]; then echo "$pid"; return 0; fi
  port_in_use "$(node_port "$k")" && die "port $(node_port "$k") (node $k) is in use by a process this script did not start"
  port_in_use "$(node_cport "$k")" && die "port $(node_cport "$k") (node $k's controller) is in use by a process this script did not start"
  cluster_write_config "$k"
  java_cmd "$dir" small
  launch "$dir"
}

# Wait until each node in $@ answers metadata listing all 3 brokers (or one of them exits, or the deadline).
cluster_wait() {
  local limit=$1 k dir; shift
  local deadline=$((SECONDS + limit))
  for k in "$@"; do
    dir=$(node_dir "$k")
    until answers_metadata "127.0.0.1:$(node_port "$k")" 3; do
      [ -n "$(node_pid "$dir")" ] || die "node $k exited during start: see $dir/server.log and $dir/stdout.log"
      ((SECONDS < deadline)) || die "node $k did not see all 3 brokers within $limit s: see $dir/server.log"
      sleep 0.5
    done
  done
}

cluster_start() {
  [ -d "$LIBS" ] || die "no broker jars in $LIBS: run scripts/setup.sh first"
  local k pids=()
  for k in 1 2 3; do
    [ -n "$(node_pid "$(node_dir $k)")" ] || cluster_write_config $k
  done
  cluster_format
  for k in 1 2 3; do pids+=("$(cluster_launch $k)") || exit 1; done
  cluster_wait 150 1 2 3
  echo "kafka cluster running (pids ${pids[*]}) on $ALL_BOOT"
}

cluster_stop() {
  # All at once: stopping one node at a time would make each later one wait for leaderships to move to nodes
  # that are about to go too.
  local k pids=() out=()
  mkdir -p "$CDIR"
  for k in 1 2 3; do
    stop_node_dir "$(node_dir $k)" TERM >"$CDIR/.stop-$k" 2>/dev/null &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || true; done
  for k in 1 2 3; do
    [ -s "$CDIR/.stop-$k" ] && out+=("node $k (pid $(cat "$CDIR/.stop-$k"))")
    rm -f "$CDIR/.stop-$k"
  done
  if ((${#out[@]} == 0)); then echo "kafka cluster not running on port $PORT"; else echo "kafka cluster stopped: ${out[*]}"; fi
}

cluster_status() {
  local k pid all=0
  for k in 1 2 3; do
    pid=$(node_pid "$(node_dir $k)")
    if [ -n "$pid" ]; then echo "node $k: running pid $pid on 127.0.0.1:$(node_port $k)"; else echo "node $k: stopped"; all=3; fi
  done
  return $all
}

node_stop() {
  local pid; pid=$(stop_node_dir "$(node_dir "$NODE")" "$1")
  if [ -z "$pid" ]; then echo "node $NODE not running"; else echo "node $NODE stopped (pid $pid, SIG$1) on 127.0.0.1:$(node_port "$NODE")"; fi
}

node_start() {
  [ -f "$(node_dir "$NODE")/data/meta.properties" ] || die "node $NODE was never formatted: start the cluster first"
  local pid; pid=$(cluster_launch "$NODE") || exit 1
  cluster_wait 90 "$NODE"
  echo "node $NODE running (pid $pid) on 127.0.0.1:$(node_port "$NODE")"
}

if ((NBROKERS == 3)); then
  case "$cmd" in
    start) cluster_start ;;
    stop) cluster_stop ;;
    status) cluster_status || exit 3 ;;
    restart) cluster_stop; cluster_start ;;
    wipe) cluster_stop; rm -rf "$CDIR"; echo "removed $CDIR" ;;
    start-node) node_start ;;
    stop-node) node_stop TERM ;;
    kill-node) node_stop KILL ;;
    *) usage ;;
  esac
  exit 0
fi

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  wipe) stop; rm -rf "$DIR"; echo "removed $DIR" ;;
  ssl-files) ssl_files ;;
  *) usage ;;
esac
