"""The web page's reads of the log (ingest/gateway/ui/reads.py): a submission's text, the latest scores
of a tenant, a batch's results as CSV, and the comparison of two versions; the deployment's
status comes from the composition root, which knows the broker and the consumer groups."""

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, select

from schemas.api import RecentText, preview
from schemas.detector_spec import DetectorSpec
from schemas.results import Comparison
from store.db import reading
from store.export import csv_chunks
from store.models import Score, Submission
from store.results import ResultSelection, compare_detectors, iter_results

__all__ = ["SqlPageReads"]


class SqlPageReads:
    def __init__(self, engine: Engine, status: Callable[[], Any]) -> None:
        self._engine = engine
        self._status = status

    def text_of(self, submission_id: UUID, tenant: str | None) -> str | None:
        with reading(self._engine) as session:
            row = session.get(Submission, submission_id)
            return row.text if row is not None and (tenant is None or row.tenant == tenant) else None

    def recent_texts(self, tenant: str | None, limit: int) -> list[RecentText]:
        query = (
            select(Score, Submission.text)
            .join(Submission, Submission.id == Score.submission_id)
            .order_by(Score.scored_at.desc())
            .limit(limit)
        )
        if tenant is not None:
            query = query.where(Submission.tenant == tenant)
        with reading(self._engine) as session:
            return [
                RecentText(
                    submission_id=score.submission_id,
                    probability=score.probability,
                    label=score.label,
                    detector=str(DetectorSpec(score.detector_name, score.detector_version)),
                    preview=preview(text),
                    scored_at=score.scored_at,
                )
                for score, text in session.execute(query)
            ]

    def batch_csv(self, batch_id: UUID, tenant: str | None) -> Iterator[str]:
        yield from csv_chunks(iter_results(self._engine, ResultSelection(batch_id=batch_id, tenant=tenant)))

    def compare(self, a: str, b: str, tenant: str | None) -> Comparison:
        return compare_detectors(self._engine, a, b, tenant=tenant)

    def status(self) -> Any:
        return self._status()
