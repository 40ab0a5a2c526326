"""What the log shows a deployment doing, for `veritext status`: submissions and scores stored in all and
in the last minute (by the database's clock), each detector version's activity, and the failures per
stage with the latest reason."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from store.db import ping
from store.models import Failure, Score, Submission

__all__ = ["FailureCount", "LogActivity", "VersionActivity", "log_activity"]

LIVE_WINDOW = timedelta(minutes=10)


class VersionActivity(BaseModel):
    detector_name: str
    detector_version: str
    last_minute: int
    total: int
    last_scored_at: datetime
    live: bool  # stored a score within LIVE_WINDOW


class FailureCount(BaseModel):
    stage: str
    last_hour: int
    total: int


@dataclass(frozen=True)
class LogActivity:
    now: datetime  # the database's clock
    submissions_total: int
    submitted_last_minute: int
    versions: list[VersionActivity]  # the most recently active first
    failures: list[FailureCount]
    latest_failure: str | None


def log_activity(engine: Engine) -> LogActivity:
    """Raises `ServiceUnavailable` when the database does not answer."""
    ping(engine)
    with Session(engine) as session:
        now = session.scalar(select(func.now()))
        assert now is not None
        minute_ago, hour_ago = now - timedelta(minutes=1), now - timedelta(hours=1)
        submissions_total, submitted_last_minute = session.execute(
            select(func.count(), func.count().filter(Submission.stored_at >= minute_ago)).select_from(Submission)
        ).one()
        version_rows = session.execute(
            select(
                Score.detector_name,
                Score.detector_version,
                func.count().filter(Score.stored_at >= minute_ago),
                func.count(),
                func.max(Score.scored_at),
                func.max(Score.stored_at),
            )
            .group_by(Score.detector_name, Score.detector_version)
            .order_by(func.max(Score.stored_at).desc())
        ).all()
        failure_rows = session.execute(
            select(Failure.stage, func.count().filter(Failure.failed_at >= hour_ago), func.count())
            .group_by(Failure.stage)
            .order_by(Failure.stage)
        ).all()
        latest_failure = session.scalar(select(Failure.reason).order_by(Failure.failed_at.desc()).limit(1))
    versions = [
        VersionActivity(
            detector_name=name,
            detector_version=version,
            last_minute=last_minute,
            total=total,
            last_scored_at=last_scored,
            live=last_stored >= now - LIVE_WINDOW,
        )
        for name, version, last_minute, total, last_scored, last_stored in version_rows
    ]
    return LogActivity(
        now=now,
        submissions_total=submissions_total,
        submitted_last_minute=submitted_last_minute,
        versions=versions,
        failures=[FailureCount(stage=stage, last_hour=hour, total=total) for stage, hour, total in failure_rows],
        latest_failure=latest_failure,
    )
