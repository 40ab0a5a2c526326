"""Results read from the log database: the scores selected for an export (by batch, time window
and detector), and the comparison of two detector versions on the texts both scored.

A detector is named as `NAME@VERSION`, or by its name or its version alone. Time windows are on
the submission time, half open: `since <= submitted_at < until`.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from schemas.detector_spec import DetectorSpec
from schemas.errors import ConfigError
from schemas.results import Comparison, ResultRow
from store.models import Score, Submission

__all__ = ["ResultSelection", "compare_detectors", "iter_results"]


@dataclass(frozen=True)
class ResultSelection:
    batch_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    detector: str | None = None
    tenant: str | None = None  # only what this API key (its name) sent


def _detector(text: str) -> ColumnElement[bool]:
    """`DetectorSpec.matches` as SQL."""
    spec = DetectorSpec.parse(text)
    if spec.version:
        return and_(Score.detector_name == spec.name, Score.detector_version == spec.version)
    return or_(Score.detector_name == spec.name, Score.detector_version == spec.name)


def iter_results(engine: Engine, selection: ResultSelection, page: int = 5000) -> Iterator[ResultRow]:
    """The selected scores with their submissions, in submission time order, streamed."""
    query = (
        select(
            Submission.id,
            Submission.external_id,
            Submission.batch_id,
            Submission.content_hash,
            Submission.lang,
            Score.lang,
            Score.probability,
            Score.label,
            Score.too_short,
            Score.confidence,
            Score.n_tokens,
            Score.detector_name,
            Score.detector_version,
            Submission.submitted_at,
            Score.scored_at,
            Score.segments,
            Score.read_chars,
        )
        .join(Submission, Submission.id == Score.submission_id)
        .order_by(Submission.submitted_at, Submission.id, Score.detector_version)
    )
    if selection.batch_id is not None:
        query = query.where(Submission.batch_id == selection.batch_id)
    if selection.since is not None:
        query = query.where(Submission.submitted_at >= selection.since)
    if selection.until is not None:
        query = query.where(Submission.submitted_at < selection.until)
    if selection.detector is not None:
        query = query.where(_detector(selection.detector))
    if selection.tenant is not None:
        query = query.where(Submission.tenant == selection.tenant)
    names = list(ResultRow.model_fields)
    with Session(engine) as session:
        for row in session.execute(query.execution_options(yield_per=page)):
            yield ResultRow.model_validate(dict(zip(names, row, strict=True)))


def _resolve(session: Session, spec: str) -> tuple[str, str]:
    """The one (name, version) that `spec` names among the stored scores."""
    pairs = session.execute(select(Score.detector_name, Score.detector_version).distinct()).all()
    matching = [(n, v) for n, v in pairs if spec in (f"{n}@{v}", n, v)]
    if len(matching) == 1:
        return matching[0]
    known = ", ".join(sorted(f"{n}@{v}" for n, v in pairs)) or "none yet"
    if not matching:
        raise ConfigError(f"no scores by detector {spec!r}; the log holds scores by: {known}")
    raise ConfigError(f"{spec!r} names {len(matching)} detector versions; pick one of: {known}")


def compare_detectors(
    engine: Engine,
    a: str,
    b: str,
    since: datetime | None = None,
    until: datetime | None = None,
    tenant: str | None = None,
) -> Comparison:
    """How detector B's scores differ from detector A's on the texts both scored (of one tenant's)."""
    first, second = aliased(Score), aliased(Score)
    shift = second.probability - first.probability
    with Session(engine) as session:
        name_a, version_a = _resolve(session, a)
        name_b, version_b = _resolve(session, b)
        query = (
            select(
                func.count(),
                func.count().filter(and_(first.label == "human", second.label == "machine")),
                func.count().filter(and_(first.label == "machine", second.label == "human")),
                func.avg(shift),
                func.avg(func.abs(shift)),
                func.max(func.abs(shift)),
            )
            .select_from(first)
            .join(second, second.submission_id == first.submission_id)
            .where(
                first.detector_name == name_a,
                first.detector_version == version_a,
                second.detector_name == name_b,
                second.detector_version == version_b,
            )
        )
        if since is not None:
            query = query.where(first.submitted_at >= since)
        if until is not None:
            query = query.where(first.submitted_at < until)
        if tenant is not None:
            query = query.join(Submission, Submission.id == first.submission_id).where(Submission.tenant == tenant)
        both, to_machine, to_human, mean, mean_abs, max_abs = session.execute(query).one()
    return Comparison(
        a=f"{name_a}@{version_a}",
        b=f"{name_b}@{version_b}",
        both_scored=both,
        flipped_human_to_machine=to_machine,
        flipped_machine_to_human=to_human,
        agreement=(both - to_machine - to_human) / both if both else None,
        mean_shift=mean,
        mean_abs_shift=mean_abs,
        max_abs_shift=max_abs,
    )
