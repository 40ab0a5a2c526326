"""Document intake benchmark: documents per second through extraction (ingest/documents/extract.py: the
kind sniffed, the text read page by page, each part cleaned by the intake rule), for a PDF and a DOCX of
five pages of ordinary prose, against the text path (the intake rule on the same text pasted as one
string), in one process and alternating rounds so the machine's noise falls on all three.

Writes bench/results/documents.json and documents.md.

    python bench/documents_bench.py [--pages 5] [--rounds 5] [--seconds 2]
"""

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test suite's document builders (tests/documents/files.py)

from ingest.documents.extract import extract  # noqa: E402
from schemas.text import clean_text  # noqa: E402
from tests.documents.files import docx_bytes, pdf_bytes  # noqa: E402

RESULTS = ROOT / "bench" / "results"
WORDS = [
    *("the", "committee", "report", "river", "village", "market", "season", "letter", "evening", "morning"),
    *("school", "library", "garden", "proposal", "question", "answer", "budget", "weather", "history"),
    *("neighbour", "window", "kitchen", "journey"),
]


def pages_of_prose(pages: int, words_per_page: int = 420) -> list[str]:
    """`pages` pages of sentences of 8 to 20 words, lines of about 90 characters (as a PDF sets them)."""
    rng = random.Random(0)
    result = []
    for _ in range(pages):
        sentences, count = [], 0
        while count < words_per_page:
            n = rng.randint(8, 20)
            sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
            count += n
        text = " ".join(sentences)
        lines, line = [], ""
        for word in text.split():
            if len(line) + len(word) > 90:
                lines.append(line)
                line = ""
            line = f"{line} {word}".strip()
        result.append("\n".join([*lines, line]))
    return result


def rate(work: Callable[[], object], seconds: float) -> float:
    """Calls of `work` per second over about `seconds`."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        work()
        done += 1
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    pages = pages_of_prose(args.pages)
    pdf, docx = pdf_bytes(pages), docx_bytes([p.replace("\n", " ") for p in pages])
    text = "\n\n".join(p.replace("\n", " ") for p in pages)
    paths = {
        "text (the intake rule)": lambda: clean_text(text),
        "PDF": lambda: extract(pdf, "essay.pdf"),
        "DOCX": lambda: extract(docx, "essay.docx"),
    }
    assert len(extract(pdf).text) > 0.9 * len(text) and len(extract(docx).text) > 0.9 * len(text)
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(args.rounds):
        for name, work in paths.items():
            rates[name].append(rate(work, args.seconds))
    median = {name: sorted(values)[len(values) // 2] for name, values in rates.items()}
    base = median["text (the intake rule)"]
    result = {
        "cpus": os.cpu_count(),
        "pages": args.pages,
        "chars": len(text),
        "bytes": {"PDF": len(pdf), "DOCX": len(docx)},
        "rounds": rates,
        "per_s": median,
        "over_text": {name: value / base for name, value in median.items()},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "documents.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# Document intake (bench/documents_bench.py)\n",
        f"Extraction of a {args.pages}-page document ({len(text):,} characters of prose) on {os.cpu_count()} CPUs, "
        f"one process; median of {args.rounds} alternating rounds of {args.seconds:g} s.\n",
        "| path | documents/s | ms each | / text path |",
        "|---|---|---|---|",
    ]
    for name, value in median.items():
        lines.append(f"| {name} | {value:,.0f} | {1000 / value:.2f} | x{value / base:.3f} |")
    (RESULTS / "documents.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
