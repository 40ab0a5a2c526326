"""Logs a `veritext train-probe` run to MLflow when `MLFLOW_TRACKING_URI` is set (optional dependency).

The run records the fitting configuration as parameters, the held-out and test-split headline numbers
as metrics, and the report itself as an artifact, under the experiment `veritext-probe`. Without the
variable nothing happens; with it but without the `mlflow` package (`pip install mlflow`), the command
says so and fails before anything is half logged.
"""

import json
import os
import tempfile
from pathlib import Path

from lab.probe_report import Report, report_json
from schemas.errors import ConfigError

__all__ = ["log_run_to_mlflow"]

_EXPERIMENT = "veritext-probe"


def log_run_to_mlflow(report: Report) -> str | None:
    """The MLflow run id, or None when no tracking server is configured."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    try:
        import mlflow
    except ImportError as exc:
        raise ConfigError("MLFLOW_TRACKING_URI is set but mlflow is not installed: pip install mlflow") from exc
    mlflow.set_experiment(_EXPERIMENT)
    with mlflow.start_run(run_name=str(report["detector"])) as run:
        mlflow.log_params({k: json.dumps(v) for k, v in report["config"].items()})  # type: ignore[attr-defined]
        mlflow.log_param("data_sha256", report["data_sha256"])
        metrics = {}
        aurocs = [m.auroc for m in report["held_out"].values() if m.auroc is not None]  # type: ignore[attr-defined]
        if aurocs:
            metrics["held_out_auroc_mean"] = sum(aurocs) / len(aurocs)
            metrics["held_out_auroc_lowest"] = min(aurocs)
        overall = report["test"]["overall"]  # type: ignore[index]
        for field in ("auroc", "tpr_at_1fpr", "ece", "fpr"):
            value = getattr(overall, field)
            if value is not None:
                metrics[f"test.{field}"] = value
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "report.json"
            path.write_text(report_json(report), encoding="utf-8")
            mlflow.log_artifact(str(path))
        return run.info.run_id
