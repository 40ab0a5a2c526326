"""The `veritext` command. Its commands live by audience: running the pipeline (running.py), the texts
and the log (data.py), the detector lab (lab.py) and the API keys (access.py); each builds its component
(veritext/components.py) or runs its task through `run_command` (app.py)."""

from veritext.cli.app import app, main

# Each module registers its commands on `app`; --help lists them in this order.
# isort: off
from veritext.cli import running  # noqa: F401
from veritext.cli import data  # noqa: F401
from veritext.cli import lab  # noqa: F401
from veritext.cli import access  # noqa: F401
# isort: on

__all__ = ["app", "main"]
