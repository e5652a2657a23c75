"""committed.py — prints a consumer group's committed offset and the end offset of each partition of a topic,
as JSON: {"0": [committed, end], ...}. Used to check that `rtml run` committed everything it finished."""
import json
import sys

from confluent_kafka import Consumer, TopicPartition

boot, group, topic = sys.argv[1:4]
c = Consumer({"bootstrap.servers": boot, "group.id": group, "enable.auto.commit": False})
parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
tps = c.committed([TopicPartition(topic, p) for p in parts], timeout=10)
print(json.dumps({str(tp.partition): [tp.offset, c.get_watermark_offsets(tp, timeout=10)[1]] for tp in tps}))
c.close()
