"""The detector versions this deployment's scorers run, as the gateway knows them: what
`GET /v1/detectors` lists and what the `detector` field of a submission may name.

The composition root resolves them (name, version, evaluation report) from the detector registry and
hands them in; the gateway never loads a model. An empty catalogue (tests of mechanics) accepts no
named detector and lists none.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from schemas.api import DetectorView
from schemas.detector_spec import DetectorSpec
from schemas.errors import InputError

__all__ = ["DetectorCatalogue"]


@dataclass(frozen=True)
class DetectorCatalogue:
    views: Sequence[DetectorView] = ()

    def resolve(self, requested: str | None) -> str | None:
        """The NAME@VERSION a submission asks for (None: the default), or a 422 naming the choices."""
        if requested is None:
            return None
        wanted = DetectorSpec.parse(requested)
        for view in self.views:
            if wanted.matches(view.name, view.version):
                return None if view.default else view.spec
        known = ", ".join(view.spec for view in self.views) or "none besides the default"
        raise InputError(f"no scorer runs detector {requested!r}; the scorers run: {known}")
