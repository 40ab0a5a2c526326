"""The bridge's Prometheus metrics: tasks it took off the queue and answered or dead-lettered,
plus the worker metrics every loop has (the outcome follower's lag on [scores] and
[dead-letter], dead letters).

A task is counted once its answer or dead letter is committed to RabbitMQ, so a task redelivered
after a crash or a lost connection is counted by the bridge that finally answers it. Dead
letters (`stage="bridge"`) are the malformed tasks only: a task the detector failed on is already
counted by the scorer (`stage="scorer"`), and here as `outcome="failed"`.
"""

from prometheus_client import CollectorRegistry, Counter

from stream.metrics import WorkerMetrics

__all__ = ["FOLLOWER", "BridgeMetrics"]

FOLLOWER = "veritext-bridge-follower"  # the `group` label of the follower's lag (it has no consumer group)


class BridgeMetrics(WorkerMetrics):
    def __init__(self, registry: CollectorRegistry | None = None, lag_interval_ms: int = 5_000) -> None:
        super().__init__(FOLLOWER, registry, lag_interval_ms)
        self.tasks = Counter(
            "veritext_bridge_tasks",
            "tasks taken off the queue, by outcome: answered, malformed (dead-lettered) or failed (scoring failed)",
            ["outcome"],
            registry=self.registry,
        )
