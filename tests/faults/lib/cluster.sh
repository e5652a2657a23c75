# tests/faults/lib/cluster.sh — for the tests on a 3-broker cluster of their own (sourced by cluster_leader.sh and
# coordinator_lost.sh after common.sh; both need T and PY).
#
# wait_for WHAT SECONDS COMMAND...
#   Polls COMMAND until it succeeds; fails the test after SECONDS, naming WHAT.
# cluster_py BOOT QUERY [ARGS]
#   Cluster facts through confluent-kafka, independent of rtml. Its client's complaints about a dead node go to
#   $T/cluster_py.err, not the test's output. Queries:
#     leader TOPIC          prints the node id leading partition 0 of TOPIC
#     coordinator GROUP     prints the node id coordinating the consumer group GROUP
#     count TOPIC N         exits 0 if TOPIC holds at least N records (the sum of its high watermarks)
#     full_isr TOPIC...     exits 0 if every partition of the TOPICs has all 3 replicas in sync
wait_for() {
  local what=$1 limit=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || fail "$what: not within $limit s"
    sleep 0.5
  done
}

cluster_py() {
  "$PY" - "$@" 2>>"$T/cluster_py.err" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
boot, query, args = sys.argv[1], sys.argv[2], sys.argv[3:]
admin = AdminClient({"bootstrap.servers": boot})
if query == "leader":
    print(admin.list_topics(args[0], timeout=10).topics[args[0]].partitions[0].leader)
elif query == "coordinator":
    print(admin.describe_consumer_groups([args[0]], request_timeout=10)[args[0]].result().coordinator.id)
elif query == "count":
    c = Consumer({"bootstrap.servers": boot, "group.id": "rtml-test-watermarks"})
    parts = c.list_topics(args[0], timeout=10).topics[args[0]].partitions
    n = sum(c.get_watermark_offsets(TopicPartition(args[0], p), timeout=5)[1] for p in parts)
    c.close()
    sys.exit(0 if n >= int(args[1]) else 1)
elif query == "full_isr":
    md = admin.list_topics(timeout=10)
    sys.exit(0 if all(len(p.isrs) == 3 for t in args for p in md.topics[t].partitions.values()) else 1)
else:
    sys.exit(f"cluster_py: unknown query {query}")
PY
}
