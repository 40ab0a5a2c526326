"""The Telegram bot as a process (`veritext bot`) against a fake Bot API server on loopback and a real
gateway, sink and scorer (the model double): help in both languages, a verdict for a text, a .txt file
and a PDF (its passages named by page), a clear answer for a text too short or a file it cannot read
(an encrypted PDF), a per-chat rate limit, and a polite message, not a crash, when the gateway is gone."""

import re
from pathlib import Path

from stream.embedded_broker import free_port
from tests.components import answers, component, component_env
from tests.documents.files import pdf_bytes
from tests.fake_telegram import fake_telegram
from tests.helpers import wait_until

LONG_TEXT = (
    "The committee met on Tuesday to discuss the budget for the new library. Members agreed to postpone "
    "the vote until the next session. Several residents asked for longer opening hours on weekends."
)


def test_the_bot_answers_texts_files_and_trouble_politely(kafka, database_url, tmp_path: Path):
    port = free_port()
    gateway_url = f"http://127.0.0.1:{port}"
    with fake_telegram() as telegram:
        env = component_env(
            kafka,
            database_url,
            VERITEXT_GATEWAY_PORT=str(port),
            VERITEXT_GATEWAY_URL=gateway_url,
            VERITEXT_SCORER_DETECTOR="tests.doubles:sentences_fixed",
            VERITEXT_TELEGRAM_TOKEN="123456:TEST-token",
            VERITEXT_TELEGRAM_API_URL=telegram.url,
            VERITEXT_TELEGRAM_RATE_LIMIT="4/minute",
            VERITEXT_LOG_LEVEL="DEBUG",  # even so, no secret and no user text in any log
        )
        with (
            component("gateway", env, tmp_path / "gateway.log") as gateway,
            component("sink", env, tmp_path / "sink.log"),
            component("scorer", env, tmp_path / "scorer.log"),
            component("bot", env, tmp_path / "bot.log") as bot,
        ):
            wait_until(lambda: answers(f"{gateway_url}/readyz"), timeout_s=90, what="the gateway ready")

            telegram.send_text(1, "/start", language="ru")
            telegram.send_text(2, "/help")
            (start,) = wait_until(lambda: telegram.replies_to(1), timeout_s=30, what="an answer to /start")
            assert "пришлите текст" in start and "Send me a text" in start
            assert wait_until(lambda: telegram.replies_to(2))[0] == start

            telegram.send_text(3, LONG_TEXT)
            (answer,) = wait_until(lambda: telegram.replies_to(3), timeout_s=60, what="a verdict")
            assert re.search(r"Probability that a machine wrote it: <b>\d+%</b>", answer), answer
            assert "sentences_fixed" not in answer and "detector fixed-double@sentences-1" in answer
            telegram.send_text(4, LONG_TEXT, language="ru")
            (russian,) = wait_until(lambda: telegram.replies_to(4), timeout_s=60)
            assert "Вероятность, что текст написан машиной" in russian

            telegram.send_text(5, "Too short.")
            assert "too short to judge" in wait_until(lambda: telegram.replies_to(5), timeout_s=60)[0]

            telegram.send_document(6, "essay.txt", LONG_TEXT.encode())
            assert "Probability that a machine wrote it" in wait_until(lambda: telegram.replies_to(6), timeout_s=60)[0]
            telegram.send_document(7, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00", mime="image/png")
            assert "binary file" in wait_until(lambda: telegram.replies_to(7), timeout_s=30)[0]
            telegram.send_document(8, "latin1.txt", "caf\xe9".encode("latin-1"))
            assert ".txt files in UTF-8 only" in wait_until(lambda: telegram.replies_to(8), timeout_s=30)[0]
            pages = pdf_bytes(LONG_TEXT.replace(". ", ".\n").split("\n"))  # a sentence a page
            telegram.send_document(13, "essay.pdf", pages, mime="application/pdf")
            (verdict,) = wait_until(lambda: telegram.replies_to(13), timeout_s=60, what="a verdict on a PDF")
            assert "Probability that a machine wrote it" in verdict, verdict
            assert re.search(r"• page [23] — \d+%", verdict), verdict
            locked = pdf_bytes(["A secret."], password="pw")
            telegram.send_document(14, "locked.pdf", locked, mime="application/pdf")
            assert "the PDF is encrypted" in wait_until(lambda: telegram.replies_to(14), timeout_s=30)[0]

            for _ in range(5):
                telegram.send_text(9, LONG_TEXT)
            wait_until(lambda: len(telegram.replies_to(9)) == 5, timeout_s=90, what="five answers in chat 9")
            assert sum("Too many texts from this chat" in r for r in telegram.replies_to(9)) == 1
            fetched = telegram.downloads
            for _ in range(5):
                telegram.send_document(12, "essay.txt", LONG_TEXT.encode())
            wait_until(lambda: len(telegram.replies_to(12)) == 5, timeout_s=90, what="five answers in chat 12")
            assert sum("Too many texts from this chat" in r for r in telegram.replies_to(12)) == 1
            assert telegram.downloads == fetched + 4, "a limited chat's file is not downloaded"

            gateway.terminate()
            gateway.wait(30)
            telegram.send_text(10, LONG_TEXT)
            trouble = wait_until(lambda: telegram.replies_to(10), timeout_s=60, what="an answer without a gateway")
            assert "unavailable right now" in trouble[0]
            telegram.send_text(11, "/help")
            wait_until(lambda: telegram.replies_to(11), timeout_s=30, what="the bot still answering")
            assert bot.poll() is None, "the bot is still running"
    assert "Traceback" not in (tmp_path / "bot.log").read_text()
    for name in ("bot", "gateway", "sink", "scorer"):
        log = (tmp_path / f"{name}.log").read_text()
        assert "TEST-token" not in log and "Several residents asked" not in log, name
