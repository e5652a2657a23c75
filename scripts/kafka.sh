#!/usr/bin/env bash
# scripts/kafka.sh — a local Apache Kafka broker for development, tests and the demo.
#
#   scripts/kafka.sh start|stop|status|restart [--port N]
#
# One combined broker+controller KRaft node on 127.0.0.1:PORT (default 9092, or $RTML_KAFKA_PORT), its
# controller on PORT+1, running the jars that scripts/setup.sh fetched into .deps/kafka/libs. Data, config
# and server.log live in .run/kafka-PORT/ (ignored by git), so brokers on different ports never meet.
#   start    idempotent; returns once the broker answers a metadata request (deadline: 90 s)
#   stop     stops only the process this script started (pid file + command line check), waits for it
#   status   prints "running pid N on 127.0.0.1:PORT" (exit 0) or "stopped" (exit 3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${RTML_KAFKA_PORT:-9092}
cmd=${1:-}; shift || true
while (($#)); do
  case "$1" in
    --port) PORT=$2; shift 2 ;;
    *) echo "kafka.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
CPORT=$((PORT + 1))
DIR="$ROOT/.run/kafka-$PORT"
LIBS="$ROOT/.deps/kafka/libs"
PIDFILE="$DIR/broker.pid"
BOOT="127.0.0.1:$PORT"

die() { echo "kafka.sh: $*" >&2; exit 1; }

# The pid of the broker we started on this port, or nothing (a stale pid file, or a pid reused by another
# program, does not count: the command line must name our config file).
our_pid() {
  [ -f "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$DIR/server.properties"; then
    echo "$pid"
  fi
}

# Does the broker answer a metadata request? (Python client from .venv: independent of rtml's build.)
answers_metadata() {
  "$ROOT/.venv/bin/python" - "$BOOT" <<'EOF' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=2)
sys.exit(0 if md.brokers else 1)
EOF
}

write_config() {
  mkdir -p "$DIR/data"
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
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
  cat >"$DIR/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$DIR/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
EOF
}

start() {
  [ -d "$LIBS" ] || die "no broker jars in $LIBS: run scripts/setup.sh first"
  local pid; pid=$(our_pid)
  if [ -n "$pid" ] && answers_metadata; then echo "kafka already running (pid $pid) on $BOOT"; return 0; fi
  if [ -z "$pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT is in use by a process this script did not start"
  fi
  if [ -z "$pid" ]; then
    write_config
    local java=(java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true
                -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*")
    if [ ! -f "$DIR/data/meta.properties" ]; then
      local id; id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log")
      "${java[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$DIR/server.properties" \
        >>"$DIR/format.log" 2>&1 || die "formatting the log dir failed: see $DIR/format.log"
    fi
    nohup "${java[@]}" kafka.Kafka "$DIR/server.properties" >"$DIR/stdout.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PIDFILE"
  fi
  local deadline=$((SECONDS + 90))
  until answers_metadata; do
    kill -0 "$pid" 2>/dev/null || die "broker exited during start: see $DIR/server.log and $DIR/stdout.log"
    ((SECONDS < deadline)) || die "broker did not answer metadata requests within 90 s: see $DIR/server.log"
    sleep 0.5
  done
  echo "kafka running (pid $pid) on $BOOT"
}

stop() {
  local pid; pid=$(our_pid)
  if [ -z "$pid" ]; then rm -f "$PIDFILE"; echo "kafka not running on port $PORT"; return 0; fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 45))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
  echo "kafka stopped (pid $pid)"
}

status() {
  local pid; pid=$(our_pid)
  if [ -n "$pid" ]; then echo "running pid $pid on $BOOT"; else echo "stopped"; exit 3; fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  wipe) stop; rm -rf "$DIR"; echo "removed $DIR" ;;
  *) echo "usage: scripts/kafka.sh start|stop|status|restart|wipe [--port N]" >&2; exit 2 ;;
esac
