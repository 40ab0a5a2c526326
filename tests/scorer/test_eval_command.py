"""`veritext eval` end to end with the real packaged detector, and its answers to bad input."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorer.detectors.registry import DEFAULT_DETECTOR
from tests.helpers import labelled_data
from veritext.cli import app

METRIC_KEYS = {"n", "auroc", "tpr_at_1fpr", "tpr_at_5fpr", "precision", "recall", "f1", "ece", "brier"}


def _records(relative: str, label: str, n: int) -> list[dict]:
    records = []
    with open(labelled_data() / relative, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["label"] == label:
                records.append(record)
            if len(records) == n:
                return records
    raise AssertionError(f"{relative} has fewer than {n} {label} texts")


@pytest.mark.model
def test_eval_prints_and_writes_the_metrics_overall_and_per_group(real_detector, tmp_path: Path) -> None:
    records = (
        _records("en/writing.jsonl", "human", 3)
        + _records("en/writing.jsonl", "machine", 3)
        + _records("ru/lenta_news_human.jsonl", "human", 1)
        + _records("ru/llm_explainer_machine.jsonl", "machine", 1)
    )
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out, scores = tmp_path / "metrics.json", tmp_path / "scores.csv"
    result = CliRunner().invoke(
        app,
        [
            "eval",
            str(data),
            "--json",
            str(out),
            "--scores",
            str(scores),
            "--by",
            "lang,domain,generator",
            "--stats-cache",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "AUROC" in result.output and "overall" in result.output
    report = json.loads(out.read_text())
    assert set(report["overall"]) >= METRIC_KEYS
    assert report["overall"]["n"] == 8
    assert report["detector"].startswith(f"{DEFAULT_DETECTOR}@")
    assert set(report["by"]["lang"]) == {"en", "ru"}
    assert report["by"]["lang"]["en"]["n"] == 6
    generators = report["by"]["generator"]
    assert all(m["n"] > m["n_machine"] > 0 for m in generators.values())  # each against its humans
    rows = list(csv.DictReader(scores.open()))
    assert len(rows) == 8 and {row["detected_lang"] for row in rows} == {"en", "ru"}
    assert all(0.0 <= float(row["probability"]) <= 1.0 for row in rows)


def test_eval_names_the_bad_line_of_a_malformed_file(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "fine", "label": "human"}\n{"text": "no label"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", str(data)])
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.output and "Traceback" not in result.output


def test_eval_refuses_an_unknown_group_field(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "x.jsonl"), "--by", "colour"])
    assert result.exit_code == 1
    assert "--by accepts" in result.output
