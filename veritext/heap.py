"""How a long-running veritext process keeps Python's garbage collector off the objects it made at start.

The modules, settings, app and model a process loads live as long as it does, yet every full collection
walked them all, and every young one ran after 700 new containers. Measured on the 2-core machine: full
collections stopped the gateway's event loop for 264-381 ms every couple of seconds under load (the
99th percentile of its 503s and accepted submissions, bench/results/gateway.md), and collections took
40% of a topic-only `veritext ingest` of 200,000 lines (2.95 of 7.42 s). So, once started, a process
collects what it has, freezes it (`gc.freeze`: out of every later collection) and collects its young
objects only every `YOUNG_THRESHOLD` new containers: cycles still get collected, the short-lived
objects of each request or line mostly die by reference counting before that.
"""

import gc

__all__ = ["YOUNG_THRESHOLD", "settle_heap"]

YOUNG_THRESHOLD = 50_000  # new container objects between two young collections (CPython's default: 700)


def settle_heap() -> None:
    """Call once the process has started, before it takes work."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
