"""`veritext up` keeps its promises off the happy path: a SIGKILLed scorer or sink is started again
and every text submitted meanwhile is scored once; after a power cut (every process killed, the
embedded PostgreSQL and broker included) right after 30 acknowledgements, the next `up` scores all 30.
The model is a double: these tests are about process mechanics."""

import signal

import httpx
import psutil

from stream.embedded_broker import free_port
from tests.helpers import wait_until
from tests.up import cut_power, start_up, stop_up
from veritext.supervisor import read_state


def _child(up, name: str) -> psutil.Process:
    return next(p for p in psutil.Process(up.pid).children() if p.cmdline()[-1] == name)


def _submit(base: str, texts: list[str]) -> list[str]:
    ids = []
    for text in texts:
        answer = httpx.post(f"{base}/v1/texts", json={"text": text}, timeout=30)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["submission_id"])
    return ids


def _scores(base: str, submission_id: str) -> list[dict]:
    return httpx.get(f"{base}/v1/texts/{submission_id}", timeout=10).json().get("scores", [])


def test_up_restarts_a_killed_scorer_and_sink_and_scores_everything_once(tmp_path):
    data_dir, log, port = tmp_path / "data", tmp_path / "up.log", free_port()
    base = f"http://127.0.0.1:{port}"
    up = start_up(data_dir, port, log)
    try:
        ids = _submit(base, [f"Before the crash, text {i}." for i in range(5)])
        wait_until(lambda: all(_scores(base, i) for i in ids), timeout_s=60)
        for name in ("scorer", "sink"):
            _child(up, name).send_signal(signal.SIGKILL)
        ids += _submit(base, [f"While the workers are down, text {i}." for i in range(10)])
        wait_until(lambda: all(_scores(base, i) for i in ids), timeout_s=120, what="every text scored")
        assert all(len(_scores(base, i)) == 1 for i in ids), "each text has exactly one score"
        state = {c.name: c for c in read_state(data_dir / "up-state.json")}
        assert state["scorer"].restarts == 1 and state["sink"].restarts == 1 and state["gateway"].restarts == 0
        assert all(c.running for c in state.values())
        assert up.poll() is None, "up kept running"
    finally:
        stop_up(up, log)
    assert "scorer exited with code -9; starting it again" in log.read_text()


def test_every_acknowledged_text_is_scored_after_a_power_cut(tmp_path):
    data_dir, log, port = tmp_path / "data", tmp_path / "up.log", free_port()
    base = f"http://127.0.0.1:{port}"
    # one text a second: most of the 30 are still unscored (only in the log, or in the topic) at the cut
    up = start_up(
        data_dir, port, log, VERITEXT_SCORER_DETECTOR="tests.doubles:crawling_fixed", VERITEXT_SCORER_MAX_BATCH="1"
    )
    ids = _submit(base, [f"Acknowledged just before the power cut, text {i}." for i in range(30)])
    cut_power(up, data_dir)
    up = start_up(data_dir, port, log)
    try:
        unscored = [i for i in ids if not _scores(base, i)]
        assert len(unscored) > 10, "the cut caught texts unscored (else this test proves nothing)"
        wait_until(lambda: all(_scores(base, i) for i in ids), timeout_s=120, what="all 30 scored")
        assert all(len(_scores(base, i)) == 1 for i in ids)
    finally:
        stop_up(up, log)
    assert "re-enqueued" in log.read_text()
