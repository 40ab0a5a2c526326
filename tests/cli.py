"""Run the real `veritext` command as a child process against the test's broker and database."""

import os
import subprocess
import sys
from pathlib import Path

from stream.settings import KafkaSettings

__all__ = ["veritext"]

ROOT = Path(__file__).resolve().parents[1]


def veritext(
    kafka: KafkaSettings, database_url: str, *args: str, env: dict[str, str] | None = None, timeout_s: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m veritext ARGS` with the test's broker, topic prefix and database; output captured."""
    environment = {
        **os.environ,
        "VERITEXT_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "VERITEXT_KAFKA_TOPIC_PREFIX": kafka.topic_prefix,
        "VERITEXT_KAFKA_PARTITIONS": str(kafka.partitions),
        "VERITEXT_DATABASE_URL": database_url,
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "veritext", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
