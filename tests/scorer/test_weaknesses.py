"""The weak list: each target a report falls short of becomes one line; what meets them is not listed."""

from scorer.detectors.weaknesses import weaknesses

REPORT = {
    "held_out": {
        "generator:good": {"auroc": 0.99, "recall": 0.80},
        "generator:missed": {"auroc": 0.97, "recall": 0.40},
        "genre:hard": {"auroc": 0.70, "recall": 0.10},
        "genre:one-label": {"auroc": None, "recall": 0.9},
    },
    "robustness": {
        "attacks": {
            "en / clean": {"auroc": 0.98, "recall": 0.50},
            "en / harmless": {"auroc": 0.97, "recall": 0.48},
            "en / costly": {"auroc": 0.93, "recall": 0.49},
            "en / paragraphs (human)": {"fpr_before": 0.0, "fpr_after": 0.04},
        },
        "cowritten": {
            "en": {"char_auroc": 0.86, "labelled": {"human": 0.6}},
            "ru": {"char_auroc": 0.95, "labelled": {"human": 0.1}},
        },
    },
}


def test_each_shortfall_is_one_line_and_nothing_else_is_listed():
    assert weaknesses(REPORT) == [
        "generator:missed: recall 0.40 at the operating point",
        "genre:hard: held-out AUROC 0.70",
        "en / costly: AUROC -0.050, recall -0.01",
        "en / paragraphs (human): false positives 0.0% -> 4.0%",
        "en / co-written texts: 60% labelled human, character-level AUROC 0.86",
    ]


def test_a_report_without_robustness_results_lists_the_folds_only():
    assert weaknesses({"held_out": REPORT["held_out"]}) == [
        "generator:missed: recall 0.40 at the operating point",
        "genre:hard: held-out AUROC 0.70",
    ]
