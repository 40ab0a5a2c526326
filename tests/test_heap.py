"""A component runs with what its build made frozen out of the garbage collector's sight (veritext/heap.py)."""

import gc

from veritext.components import Component, run_component
from veritext.heap import YOUNG_THRESHOLD


def test_a_component_runs_with_its_start_up_heap_frozen():
    seen: dict[str, int] = {}

    def run() -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["young_threshold"] = gc.get_threshold()[0]

    before = gc.get_threshold()
    try:
        run_component(Component("heap probe", run))
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    assert seen["frozen"] > 10_000, "the objects made before it ran are frozen"
    assert seen["young_threshold"] == YOUNG_THRESHOLD
