"""The weak list of a detector's evaluation report: where it falls short of the targets it is held to
(docs/detector.md), read from the report's held-out folds and from the robustness results beside it
(bench/robustness_bench.py), one sentence each, so `GET /v1/detectors`, `veritext detectors --json` and
the web page say what the detector cannot be trusted with."""

from typing import Any

__all__ = ["weaknesses"]

MIN_AUROC = 0.90  # a held-out fold below it
MIN_RECALL = 0.7  # a held-out generator whose texts are found less often at the operating point (the target)
MAX_AUROC_DROP = 0.03  # an attack that costs more
MAX_RECALL_DROP = 0.05
MAX_FPR_RISE = 0.01  # paragraph breaks in human text
MAX_COWRITTEN_HUMAN = 0.20  # co-written texts labelled human
MIN_CHAR_AUROC = 0.90


def weaknesses(report: dict[str, Any]) -> list[str]:
    weak = []
    for fold, m in report.get("held_out", {}).items():
        if m.get("auroc") is not None and m["auroc"] < MIN_AUROC:
            weak.append(f"{fold}: held-out AUROC {m['auroc']:.2f}")
        elif fold.startswith("generator:") and m.get("recall") is not None and m["recall"] < MIN_RECALL:
            weak.append(f"{fold}: recall {m['recall']:.2f} at the operating point")
    robustness = report.get("robustness", {})
    attacks = robustness.get("attacks", {})
    for name, m in attacks.items():
        lang, _, attack = name.partition(" / ")
        clean = attacks.get(f"{lang} / clean")
        if "fpr_after" in m and m["fpr_after"] - m["fpr_before"] > MAX_FPR_RISE:
            weak.append(f"{name}: false positives {m['fpr_before']:.1%} -> {m['fpr_after']:.1%}")
        elif clean is not None and attack != "clean" and "auroc" in m:
            auroc_drop, recall_drop = clean["auroc"] - m["auroc"], clean["recall"] - m["recall"]
            if auroc_drop > MAX_AUROC_DROP or recall_drop > MAX_RECALL_DROP:
                weak.append(f"{name}: AUROC -{auroc_drop:.3f}, recall -{recall_drop:.2f}")
    for lang, m in robustness.get("cowritten", {}).items():
        if m["labelled"]["human"] > MAX_COWRITTEN_HUMAN or m["char_auroc"] < MIN_CHAR_AUROC:
            weak.append(
                f"{lang} / co-written texts: {m['labelled']['human']:.0%} labelled human, "
                f"character-level AUROC {m['char_auroc']:.2f}"
            )
    return weak
