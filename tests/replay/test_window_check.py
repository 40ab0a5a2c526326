"""When a replay trusts the topic, and when it falls back to the log database (no services: the
plan is built by hand, since the embedded broker cannot show retention)."""

from datetime import UTC, datetime, timedelta

from stream.replay import PartitionSpan, ReplayPlan, epoch_millis, missing_window

SINCE = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
T = epoch_millis(SINCE)


def _plan(*spans: PartitionSpan) -> ReplayPlan:
    return ReplayPlan("veritext.submissions", T, spans)


def test_the_topic_holds_the_window():
    plan = _plan(PartitionSpan(0, 10, 20, 0, T - 60_000), PartitionSpan(1, 3, 9, 0, T - 5_000))
    assert missing_window(plan, "veritext.submissions", SINCE + timedelta(seconds=1)) is None
    assert missing_window(plan, "veritext.submissions", None) is None, "nothing logged: the topic is all there is"
    exact = _plan(PartitionSpan(0, 0, 5, 0, T))
    assert missing_window(exact, "veritext.submissions", SINCE) is None, "same millisecond: held"


def test_a_missing_or_forgotten_topic_falls_back():
    assert "no topic" in missing_window(None, "veritext.submissions", None)
    empty = _plan(PartitionSpan(0, 0, 0, 0, None), PartitionSpan(1, 0, 0, 0, None))
    assert "is empty" in missing_window(empty, "veritext.submissions", SINCE)
    restarted = _plan(PartitionSpan(0, 0, 4, 0, T + 3_600_000), PartitionSpan(1, 0, 0, 0, None))
    reason = missing_window(restarted, "veritext.submissions", SINCE + timedelta(minutes=5))
    assert reason is not None and "forgot" in reason


def test_retention_that_cut_into_the_window_falls_back():
    cut = _plan(PartitionSpan(0, 500, 900, 500, T + 1), PartitionSpan(1, 0, 10, 0, T - 1))
    assert "retention" in missing_window(cut, "veritext.submissions", None)
    before = _plan(PartitionSpan(0, 500, 900, 400, T - 1))
    assert missing_window(before, "veritext.submissions", SINCE) is None, "retention only removed older records"
