"""veritext's composition root: the CLI, the `up` supervisor and the embedded database launcher, and
the public Python API (`from veritext import Detector`: veritext/detector.py).

It reads settings from the environment, builds the components of the other packages and runs
them; it holds no pipeline logic of its own.
"""

__all__ = ["Detector"]


def __getattr__(name: str):
    """`Detector` is imported when it is asked for: the CLI does not load torch to print its help."""
    if name == "Detector":
        from veritext.detector import Detector

        return Detector
    raise AttributeError(f"module 'veritext' has no attribute {name!r}")
