"""`veritext status`: what a running deployment is doing, from Kafka offsets and the PostgreSQL log,
so an operator sees its health without Grafana.

- Throughput: submissions and scores stored in the last minute, per second (the database's clock).
- Waiting: texts the live scorer group has not scored yet (its lag on [submissions]).
- Lag: each group's committed offsets against the log end, per topic and partition: the scorers
  on [submissions], the sink on all three topics.
- Detector versions: every version in the log; "live" when it stored a score in the last 10 minutes.
- Errors: records in [dead-letter], failures stored per stage (last hour, all time), the latest reason.
- Components: when a `veritext up` runs on this machine, each child it supervises, running or waiting to
  restart, and how often it was restarted (its state file, veritext/supervisor.py).
"""

from datetime import datetime

from pydantic import BaseModel
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from sqlalchemy import Engine

from store.activity import FailureCount, VersionActivity, log_activity
from stream.lag import PartitionLag, group_lag, partition_offsets
from stream.settings import KafkaSettings
from veritext.reports import fitting
from veritext.supervisor import ComponentState

__all__ = ["StatusReport", "collect_status", "render_status"]


class StatusReport(BaseModel):
    kafka: str
    database: str
    taken_at: datetime
    submitted_per_s: float  # submissions stored over the last minute
    scored_per_s: float  # scores stored over the last minute, all versions
    waiting: int  # records on [submissions] the scorer group has not committed
    submissions_total: int
    scores_total: int
    lag: list[PartitionLag]
    versions: list[VersionActivity]
    dead_letters: int  # records in [dead-letter]
    failures: list[FailureCount]
    latest_failure: str | None
    components: list[ComponentState]  # what `up` supervises; empty when no `up` runs here


def collect_status(
    kafka: KafkaSettings,
    engine: Engine,
    *,
    scorer_group: str,
    sink_group: str,
    components: list[ComponentState] | None = None,
) -> StatusReport:
    """Read the offsets and the log; raises `ServiceUnavailable` when either does not answer."""
    activity = log_activity(engine)
    topics = kafka.topics
    offsets = partition_offsets(kafka, topics.all())
    submissions = [o for o in offsets if o.topic == topics.submissions]
    lag = group_lag(kafka, scorer_group, submissions) + group_lag(kafka, sink_group, offsets)
    versions = activity.versions
    return StatusReport(
        kafka=kafka.bootstrap,
        database=engine.url.render_as_string(hide_password=True),
        taken_at=activity.now,
        submitted_per_s=activity.submitted_last_minute / 60,
        scored_per_s=sum(v.last_minute for v in versions) / 60,
        waiting=sum(p.lag for p in lag if p.group == scorer_group),
        submissions_total=activity.submissions_total,
        scores_total=sum(v.total for v in versions),
        lag=lag,
        versions=versions,
        dead_letters=sum(o.end - o.start for o in offsets if o.topic == topics.dead_letter),
        failures=activity.failures,
        latest_failure=activity.latest_failure,
        components=components or [],
    )


def _lag_table(report: StatusReport) -> Table:
    table = Table(title="Consumer lag", title_justify="left")
    for column in ("group", "topic", "lag", "per partition"):
        table.add_column(column, justify="right" if column == "lag" else "left")
    keys = sorted({(p.group, p.topic) for p in report.lag})
    for group, topic in keys:
        parts = sorted((p for p in report.lag if (p.group, p.topic) == (group, topic)), key=lambda p: p.partition)
        total = sum(p.lag for p in parts)
        detail = " ".join(f"{p.partition}:{p.lag}" for p in parts)
        table.add_row(group, topic, f"[{'yellow' if total else 'green'}]{total}[/]", detail)
    return table


def _versions_table(report: StatusReport) -> Table:
    table = Table(title="Detector versions", title_justify="left")
    for column in ("detector", "version", "scores/min", "total", "last scored", "state"):
        table.add_column(column, justify="right" if column in ("scores/min", "total") else "left")
    for v in report.versions:
        state = "[green]live[/]" if v.live else "[dim]idle[/]"
        scored = v.last_scored_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(v.detector_name, v.detector_version, str(v.last_minute), str(v.total), scored, state)
    if not report.versions:
        table.add_row("[dim]no scores yet[/]", "", "", "", "", "")
    return table


def _errors_table(report: StatusReport) -> Table:
    table = Table(title="Errors", title_justify="left")
    for column in ("stage", "failures last hour", "total"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for f in report.failures:
        table.add_row(f.stage, f"[{'red' if f.last_hour else 'green'}]{f.last_hour}[/]", str(f.total))
    if not report.failures:
        table.add_row("[green]none[/]", "0", "0")
    return table


def _components_table(report: StatusReport) -> Table:
    table = Table(title="Components (veritext up)", title_justify="left")
    for column in ("component", "state", "pid", "restarts", "last exit", "since"):
        table.add_column(column, justify="right" if column in ("pid", "restarts", "last exit") else "left")
    for c in report.components:
        state = "[green]running[/]" if c.running else "[red]restarting[/]"
        restarts = f"[{'yellow' if c.restarts else 'green'}]{c.restarts}[/]"
        last_exit = "" if c.last_exit is None else str(c.last_exit)
        table.add_row(c.name, state, str(c.pid or ""), restarts, last_exit, c.since[:19].replace("T", " "))
    return table


def render_status(report: StatusReport, console: Console) -> None:
    waiting = f"[{'yellow' if report.waiting else 'green'}]{report.waiting}[/]"
    dead = f"[{'red' if report.dead_letters else 'green'}]{report.dead_letters}[/]"
    summary = (
        f"kafka     [bold]{report.kafka}[/]\n"
        f"database  [bold]{report.database}[/]\n"
        f"throughput (last minute)  {report.submitted_per_s:.2f} submitted/s   {report.scored_per_s:.2f} scored/s\n"
        f"texts waiting  {waiting}   dead letters in topic  {dead}\n"
        f"in the log  {report.submissions_total} submissions, {report.scores_total} scores"
    )
    tables = [_lag_table(report), _versions_table(report), _errors_table(report)]
    if report.components:
        tables.insert(0, _components_table(report))
    parts: list[RenderableType] = [fitting(table, console) for table in tables]
    if report.latest_failure:
        parts.append(f"latest failure: [red]{report.latest_failure[:300]}[/]")
    taken = report.taken_at.strftime("%Y-%m-%d %H:%M:%S %Z")
    console.print(Panel(summary, title=f"veritext status at {taken}", title_align="left"))
    console.print(Group(*parts))
