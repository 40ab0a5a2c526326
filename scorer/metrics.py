"""The scorer's Prometheus metrics: batch sizes, model time per batch, texts and tokens scored,
queue wait (submission event time to scoring start), GPU memory, plus the worker metrics every
loop has (consumer lag, dead letters).

`detector` labels are `name@version`, so a replay with another version is told apart from the
live scorer. Texts/s and tokens/s are the model throughput of the last batch; over time use
`rate()` of the `_total` counters. Tokens are the ones each `Verdict` says the model read.
"""

import sys

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream.metrics import WorkerMetrics

__all__ = ["ScorerMetrics"]

_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)


class ScorerMetrics(WorkerMetrics):
    def __init__(self, group: str, registry: CollectorRegistry | None = None, lag_interval_ms: int = 5_000) -> None:
        super().__init__(group, registry, lag_interval_ms)
        r = self.registry
        self.batch_size = Histogram(
            "veritext_scorer_batch_size",
            "texts per micro-batch given to the detector",
            buckets=_SIZE_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "veritext_scorer_batch_seconds",
            "model seconds per micro-batch",
            ["detector"],
            buckets=_SECONDS_BUCKETS,
            registry=r,
        )
        self.texts = Counter("veritext_scorer_texts", "texts scored", ["detector"], registry=r)
        self.tokens = Counter("veritext_scorer_tokens", "tokens the model read", ["detector"], registry=r)
        self.texts_per_second = Gauge(
            "veritext_scorer_texts_per_second", "model throughput of the last batch", ["detector"], registry=r
        )
        self.tokens_per_second = Gauge(
            "veritext_scorer_tokens_per_second", "model tokens/s of the last batch", ["detector"], registry=r
        )
        self.queue_wait = Histogram(
            "veritext_scorer_queue_wait_seconds",
            "from the submission's event time to the start of its scoring",
            buckets=_WAIT_BUCKETS,
            registry=r,
        )
        self.gpu_memory = Gauge(
            "veritext_gpu_memory_bytes",
            "GPU memory held by this process's tensors (allocated) and by its caching allocator (reserved)",
            ["device", "kind"],
            registry=r,
        )

    def observe_batch(self, detector: str, *, size: int, seconds: float, texts: int, tokens: int) -> None:
        """One micro-batch of `size` texts, of which `texts` were scored, reading `tokens` tokens."""
        self.batch_size.observe(size)
        self.batch_seconds.labels(detector).observe(seconds)
        self.texts.labels(detector).inc(texts)
        self.tokens.labels(detector).inc(tokens)
        if seconds > 0:
            self.texts_per_second.labels(detector).set(texts / seconds)
            self.tokens_per_second.labels(detector).set(tokens / seconds)
        self._observe_gpu()

    def _observe_gpu(self) -> None:
        """GPU memory, when this process runs torch on CUDA (a detector without torch costs nothing)."""
        torch = sys.modules.get("torch")
        if torch is None or not torch.cuda.is_available():
            return
        for index in range(torch.cuda.device_count()):
            device = f"cuda:{index}"
            self.gpu_memory.labels(device, "allocated").set(torch.cuda.memory_allocated(index))
            self.gpu_memory.labels(device, "reserved").set(torch.cuda.memory_reserved(index))
