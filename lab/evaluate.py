"""`veritext eval`: score labelled texts in-process with a detector and report detection metrics.

No broker and no database: the detector runs here, in batches of texts of similar length, on the GPU
when there is one. Each text goes through the intake rule every door applies (schemas/text.py) before
the detector reads it, so a number here is the number the pipeline would give; a text the rule rejects
is left out (as the pipeline would refuse it). The report holds the metrics (metrics.py) overall and
per value of each `--by` field (lang, domain, generator). A generator's group holds its machine texts
and the human texts paired with them (same `pair_id`), or, where texts are unpaired, every human text
of the same language: a generator is measured against the humans it imitated.
"""

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from lab.dataset import LabelledText
from lab.metrics import Metrics, compute_metrics
from schemas.detector_spec import DetectorSpec
from schemas.text import TextRejected, clean_text
from schemas.verdict import Verdict
from scorer.detectors.base import Detector
from scorer.window import read_window

__all__ = [
    "GROUP_FIELDS",
    "Report",
    "Scored",
    "report",
    "report_json",
    "report_markdown",
    "report_table",
    "score_records",
    "write_scores",
]

GROUP_FIELDS = ("lang", "domain", "generator")


@dataclass(frozen=True)
class Scored:
    record: LabelledText
    verdict: Verdict


Report = dict[str, object]  # {"detector": ..., "overall": Metrics, "by": {field: {value: Metrics}}}


def score_records(
    detector: Detector, records: Sequence[LabelledText], batch_size: int, progress: Callable[[int], None]
) -> list[Scored]:
    """The records' verdicts, in order; records whose text the intake rule rejects are left out."""
    texts: dict[int, str] = {}
    for i, record in enumerate(records):
        try:
            texts[i] = read_window(clean_text(record.text).text).text
        except TextRejected:
            progress(1)
    order = sorted(texts, key=lambda i: len(texts[i]))
    verdicts: dict[int, Verdict] = {}
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        for i, verdict in zip(batch, detector.score([texts[i] for i in batch]), strict=True):
            verdicts[i] = verdict
        progress(len(batch))
    return [Scored(record, verdicts[i]) for i, record in enumerate(records) if i in verdicts]


def _metrics(rows: Sequence[Scored]) -> Metrics:
    return compute_metrics(
        [r.record.label == "machine" for r in rows],
        [r.verdict.probability for r in rows],
        [r.verdict.label != "human" for r in rows],  # "mixed" flags a text too
    )


def _groups(rows: Sequence[Scored], field: str) -> dict[str, list[Scored]]:
    if field != "generator":
        groups: dict[str, list[Scored]] = {}
        for row in rows:
            groups.setdefault(str(getattr(row.record, field)), []).append(row)
        return groups
    humans = [r for r in rows if r.record.label == "human"]
    by_generator: dict[str, list[Scored]] = {}
    for row in rows:
        if row.record.label == "machine":
            by_generator.setdefault(str(row.record.generator), []).append(row)
    result = {}
    for generator, machine in by_generator.items():
        pairs = {r.record.pair_id for r in machine if r.record.pair_id}
        langs = {r.record.lang for r in machine}
        paired = [h for h in humans if h.record.pair_id in pairs]
        result[generator] = machine + (paired or [h for h in humans if h.record.lang in langs])
    return result


def report(detector: Detector, rows: Sequence[Scored], by: Sequence[str]) -> Report:
    return {
        "detector": str(DetectorSpec(detector.name, detector.version)),
        "overall": _metrics(rows),
        "by": {
            field: {value: _metrics(group) for value, group in sorted(_groups(rows, field).items())} for field in by
        },
    }


def report_json(result: Report) -> str:
    def plain(value: object) -> object:
        if isinstance(value, Metrics):
            return value.model_dump()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return json.dumps(plain(result), indent=2)


_COLUMNS = (
    "group",
    "n",
    "machine",
    "AUROC",
    "TPR@1%FPR",
    "TPR@5%FPR",
    "precision",
    "recall",
    "F1",
    "FPR",
    "ECE",
    "Brier",
)


def _rows(result: Report) -> list[list[str]]:
    rows: list[tuple[str, Metrics]] = [("overall", result["overall"])]  # type: ignore[list-item]
    for field, groups in result["by"].items():  # type: ignore[attr-defined]
        rows += [(f"{field}={value}", metrics) for value, metrics in groups.items()]
    return [
        [name, str(m.n), str(m.n_machine)]
        + [_fmt(v) for v in (m.auroc, m.tpr_at_1fpr, m.tpr_at_5fpr, m.precision, m.recall, m.f1, m.fpr, m.ece, m.brier)]
        for name, m in rows
    ]


def report_table(result: Report) -> Table:
    table = Table(title=f"detection metrics of {result['detector']}")
    for column in _COLUMNS:
        table.add_column(column, justify="left" if column == "group" else "right")
    for row in _rows(result):
        table.add_row(*row)
    return table


def report_markdown(result: Report) -> str:
    lines = [f"# Detection metrics of {result['detector']}\n", "| " + " | ".join(_COLUMNS) + " |"]
    lines.append("|" + "---|" * len(_COLUMNS))
    lines += ["| " + " | ".join(row) + " |" for row in _rows(result)]
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_scores(rows: Sequence[Scored], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "id",
                "label",
                "lang",
                "domain",
                "generator",
                "probability",
                "predicted",
                "detected_lang",
                "too_short",
                "n_tokens",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r.record.id,
                    r.record.label,
                    r.record.lang,
                    r.record.domain,
                    r.record.generator,
                    f"{r.verdict.probability:.6f}",
                    r.verdict.label,
                    r.verdict.lang,
                    r.verdict.too_short,
                    r.verdict.n_tokens,
                ]
            )
