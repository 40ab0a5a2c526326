"""Group commit (ingest/recorder.py `GroupRecorder`) on real PostgreSQL: concurrent submissions share
transactions, and what one of them did wrong reaches its caller alone."""

import asyncio
import uuid
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ingest.recorder import GroupRecorder
from schemas.errors import InputError, ServiceUnavailable
from schemas.events import SubmissionEvent, wire
from store.db import make_engine
from store.models import Submission
from store.recorder import SqlSubmissionRecorder


class CountingRecorder(SqlSubmissionRecorder):
    """The PostgreSQL recorder, counting the transactions it was asked for."""

    groups: list[int]

    def record(self, events: Sequence[bytes]) -> None:
        self.groups.append(len(events))
        super().record(events)


def _recorder(engine) -> CountingRecorder:
    recorder = CountingRecorder(engine)
    recorder.groups = []
    return recorder


def _event(text: str, submission_id: uuid.UUID | None = None) -> SubmissionEvent:
    return SubmissionEvent(submission_id=submission_id or uuid.uuid4(), text=text)


def _stored(engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


async def _record_all(grouped: GroupRecorder, events: list[SubmissionEvent]) -> list[BaseException | None]:
    return await asyncio.gather(*(grouped.record(event) for event in events), return_exceptions=True)


def test_concurrent_submissions_share_transactions(engine) -> None:
    recorder = _recorder(engine)
    events = [_event(f"Submission {i} of a crowd arriving at once.") for i in range(200)]
    outcomes = asyncio.run(_record_all(GroupRecorder(recorder, max_group=64), events))
    assert outcomes == [None] * 200
    assert _stored(engine) == 200
    assert sum(recorder.groups) == 200 and len(recorder.groups) < 10, recorder.groups
    assert max(recorder.groups) == 64


def test_an_id_holding_another_text_fails_its_caller_alone(engine) -> None:
    taken = uuid.uuid4()
    SqlSubmissionRecorder(engine).record([wire(_event("The text first stored under this id.", taken))])
    events = [_event(f"An honest submission, number {i}.") for i in range(20)]
    events.insert(7, _event("Another text under the taken id.", taken))
    outcomes = asyncio.run(_record_all(GroupRecorder(_recorder(engine)), events))
    assert isinstance(outcomes[7], InputError) and "holds another text" in str(outcomes[7])
    assert outcomes[:7] + outcomes[8:] == [None] * 20
    assert _stored(engine) == 21


def test_a_text_the_database_cannot_store_fails_its_caller_alone(engine) -> None:
    """A NUL character from a caller that skipped the intake rule: PostgreSQL refuses the group, which is
    recorded again event by event."""
    events = [_event(f"A storable submission, number {i}.") for i in range(10)]
    events.insert(3, _event("A NUL \x00 inside."))
    outcomes = asyncio.run(_record_all(GroupRecorder(_recorder(engine)), events))
    assert isinstance(outcomes[3], InputError)
    assert str(outcomes[3]) == "the log database refused the submission: unsupported Unicode escape sequence"
    assert outcomes[:3] + outcomes[4:] == [None] * 10
    assert _stored(engine) == 10


def test_two_texts_racing_under_one_id_store_one_and_refuse_the_other(engine) -> None:
    """Never in one group: the second meets the first's row and is compared with it."""
    same = uuid.uuid4()
    events = [_event("Text A under a shared key.", same), _event("Text B under a shared key.", same)]
    outcomes = asyncio.run(_record_all(GroupRecorder(_recorder(engine)), events))
    assert outcomes[0] is None and isinstance(outcomes[1], InputError)
    assert _stored(engine) == 1


def test_a_database_that_does_not_answer_reaches_every_caller() -> None:
    down = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none", pool_size=1)
    events = [_event(f"Submitted while the database is down, {i}.") for i in range(5)]
    outcomes = asyncio.run(_record_all(GroupRecorder(SqlSubmissionRecorder(down)), events))
    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes), outcomes


@pytest.mark.parametrize("cancelled", [0, 3])
def test_a_caller_that_goes_away_leaves_the_group_recorded(engine, cancelled: int) -> None:
    events = [_event(f"Submission {i}, its caller may hang up.") for i in range(6)]

    async def run() -> None:
        grouped = GroupRecorder(_recorder(engine))
        tasks = [asyncio.create_task(grouped.record(event)) for event in events]
        await asyncio.sleep(0)
        for task in tasks[:cancelled]:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())
    assert _stored(engine) == 6
