"""A detector version as every stage of the flow names it: `NAME@VERSION` (e.g.
`probe@gemma3-270m-probe-048999c7`). Scores, metrics labels, logs, the log database's queries, the API's
`detector` field and the CLI's `--detector` all format and parse it here, by one rule: a bare word names
a detector by its name or its version."""

from dataclasses import dataclass

__all__ = ["DetectorSpec"]


@dataclass(frozen=True)
class DetectorSpec:
    name: str
    version: str = ""  # "" when only a name (or only a version) was given

    @classmethod
    def parse(cls, text: str) -> "DetectorSpec":
        name, _, version = text.strip().partition("@")
        return cls(name, version)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name

    def matches(self, name: str, version: str) -> bool:
        """Whether the detector version `name@version` is the one this names (a bare word: its name or version)."""
        if self.version:
            return (self.name, self.version) == (name, version)
        return self.name in (name, version)
