"""Consumer-group lag as the broker sees it: per partition, the log end offset minus the group's
committed offset (or minus the log start when the group has committed nothing yet: a new group
reads from the earliest record). Read-only: it joins no group and commits nothing.

Used by `veritext status`. End offsets come from a plain consumer's watermark query, which every
Kafka-protocol broker answers (the admin `ListOffsets` call is not answered right by the embedded
broker); committed offsets from the admin API.
"""

import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from pydantic import BaseModel

from schemas.errors import ServiceUnavailable
from stream.settings import KafkaSettings

__all__ = ["PartitionLag", "PartitionOffsets", "group_lag", "partition_offsets"]

# Failures reach the caller as `ServiceUnavailable` with librdkafka's reason; its own log would
# repeat the same connection error for every retry (hundreds of lines in a 10 s timeout).
_QUIET = {"log_level": 0}


class PartitionOffsets(BaseModel):
    topic: str
    partition: int
    start: int  # the first offset still in the log
    end: int  # the offset the next record will get


class PartitionLag(BaseModel):
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group has committed nothing on this partition
    end: int
    lag: int


def partition_offsets(
    settings: KafkaSettings, topics: Iterable[str], timeout_s: float = 10.0
) -> list[PartitionOffsets]:
    """Start and end offsets of every partition of `topics` (a missing topic has none)."""
    group = f"veritext-offsets-{uuid.uuid4().hex}"  # required by the client; never joined
    consumer = Consumer({**settings.client_config(), "group.id": group, **_QUIET})
    try:
        metadata = consumer.list_topics(timeout=timeout_s).topics
        offsets = []
        for topic in topics:
            for partition in sorted(metadata[topic].partitions) if topic in metadata else []:
                start, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
                offsets.append(PartitionOffsets(topic=topic, partition=partition, start=start, end=end))
        return offsets
    except KafkaException as exc:
        raise ServiceUnavailable(f"Kafka at {settings.bootstrap} did not answer: {exc}") from exc
    finally:
        consumer.close()


def group_lag(
    settings: KafkaSettings, group: str, offsets: list[PartitionOffsets], timeout_s: float = 10.0
) -> list[PartitionLag]:
    """The lag of `group` on each partition in `offsets` (from `partition_offsets`)."""
    if not offsets:
        return []
    admin = AdminClient({**settings.client_config(), **_QUIET})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(o.topic, o.partition) for o in offsets])
    try:
        answer = admin.list_consumer_group_offsets([request], request_timeout=timeout_s)[group].result(timeout_s)
    except KafkaException as exc:
        raise ServiceUnavailable(f"Kafka at {settings.bootstrap} did not give the offsets of {group}: {exc}") from exc
    committed = {(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions if tp.offset >= 0}
    lags = []
    for o in offsets:
        done = committed.get((o.topic, o.partition))
        lag = max(o.end - (done if done is not None else o.start), 0)
        lags.append(PartitionLag(group=group, topic=o.topic, partition=o.partition, committed=done, end=o.end, lag=lag))
    return lags
