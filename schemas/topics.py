"""Topic names, in one place. A prefix keeps deployments (and test runs) apart on one broker."""

from dataclasses import dataclass

__all__ = ["Topics"]


@dataclass(frozen=True)
class Topics:
    """The three topics of the flow, named under one prefix."""

    prefix: str = "veritext"

    @property
    def submissions(self) -> str:
        return f"{self.prefix}.submissions"

    @property
    def scores(self) -> str:
        return f"{self.prefix}.scores"

    @property
    def dead_letter(self) -> str:
        return f"{self.prefix}.dead-letter"

    def all(self) -> tuple[str, str, str]:
        return (self.submissions, self.scores, self.dead_letter)
