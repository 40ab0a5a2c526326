"""Fitting the probe detector from measured texts, with synthetic measures (no model): the held-out
folds follow their committed definition, and the artifact and its report are consistent."""

import json

import numpy as np
import pytest

from lab.corpus import CorpusText, load_corpus, measured_sample
from lab.dataset import LabelledText, split_of
from lab.folds import held_out_folds, trainable
from lab.measures import CACHE_LAYERS, CUT_TOKENS, Measure
from lab.metrics import compute_metrics
from lab.probe_fit import ProbeConfig, fit_document, segment_design
from lab.probe_report import report_json, report_markdown
from lab.probe_train import fit_probe
from scorer.detectors.lm_statistics import N_STATS
from scorer.detectors.probe_model import ProbeModel, design_row
from scorer.detectors.registry import PACKAGED_PROBE, report_path
from tests.helpers import labelled_data

HIDDEN = 8
CELLS = [  # (lang, domain, file, label, generator)
    ("en", "xsum", "xsum", "human", None),
    ("en", "xsum", "xsum", "machine", "gpt2-xl"),
    ("en", "review", "en_detectrl", "human", None),
    ("en", "review", "en_detectrl", "machine", "claude-instant"),
    ("en", "student_essay", "en_outfox_essays", "human", None),
    ("en", "student_essay", "en_outfox_essays", "machine", "gpt-3.5-turbo"),
    ("ru", "news", "lenta_news_human", "human", None),
    ("ru", "advice-explainer", "llm_explainer_machine", "machine", "chatGPT 4o"),
]


def _measure(rng: np.random.Generator, machine: bool, n_tokens: int) -> Measure:
    bounds = np.array(sorted({p for p in CUT_TOKENS if p < n_tokens} | {n_tokens}))
    counts = np.diff(bounds)
    shift = 0.8 if machine else 0.0
    ll = -(3.0 - shift + rng.normal(0, 0.3, len(counts)))
    stats = np.stack(
        [ll * counts, -2.5 * counts, 4.0 * counts, 1.5 * counts, 2.5 * counts, 0.1 * counts, 0.1 * counts], axis=1
    )
    assert stats.shape[1] == N_STATS
    states = (rng.normal(shift, 1.0, (len(counts), len(CACHE_LAYERS) * HIDDEN)) * counts[:, None]).astype(np.float32)
    sentences = np.array([*(b for b in bounds[1:-1] if b >= 16), n_tokens])  # sentences end at block bounds
    return Measure(n_tokens, bounds, counts, stats, states, {25: 32, 50: 64}, sentences)


def _corpus(per_cell: int = 40) -> tuple[list[CorpusText], dict[str, Measure]]:
    from lab.corpus import GENRE_OF, family_of

    rng = np.random.default_rng(7)
    corpus, measures = [], {}
    for lang, domain, file, label, generator in CELLS:
        for i in range(per_cell):
            text = f"{file} {label} {generator} text {i}"
            record = LabelledText(
                text=text, label=label, lang=lang, domain=domain, generator=generator, id=text, group_id=text
            )
            corpus.append(CorpusText(record, text, file, GENRE_OF[(lang, domain)], family_of(generator)))
            measures[text] = _measure(rng, label == "machine", int(rng.integers(80, 300)))
    return corpus, measures


def test_folds_hold_out_whole_generators_and_genres() -> None:
    corpus, _ = _corpus()
    folds = {fold.name: fold for fold in held_out_folds(corpus)}
    assert set(folds) >= {"generator:claude", "generator:gpt-4o", "genre:essays", "genre:news"}
    fit = trainable(corpus)
    for name, fold in folds.items():
        kind, _, value = name.partition(":")
        trained = [item for item, keep in zip(corpus, fold.train, strict=True) if keep]
        judged = [item for item, keep in zip(corpus, fold.judge, strict=True) if keep]
        assert not (fold.train & ~fit).any(), "the test split is never trained on"
        if kind == "generator":
            assert all(item.family != value for item in trained)
            assert all(item.family == value or (not item.machine and item.split == "test") for item in judged)
        else:
            assert all(item.genre != value for item in trained) and all(item.genre == value for item in judged)


def test_fit_gives_a_consistent_artifact_and_report(tmp_path) -> None:
    corpus, measures = _corpus()
    config = ProbeConfig(layers=(9, 12), min_tokens=16)
    model, report = fit_probe(corpus, measures, config, model_id="gemma-test")
    path = tmp_path / "probe.json"
    model.save(path)
    assert ProbeModel.load(path) == model
    assert set(model.languages) == {"other", "en", "ru"}  # a threshold each
    en, ru = model.languages["en"], model.languages["ru"]
    assert en.a == ru.a and en.b != ru.b, "one slope for the languages, an intercept each"
    assert len(model.coef) == len(model.mean) == len(config.likelihood_features) + 2 * HIDDEN
    assert report["detector"].startswith("probe@gemma-test-probe-")
    assert model.segment.threshold > 0 and len(model.segment.coef) == len(model.coef)
    assert {name.partition(":")[0] for name in report["held_out"]} == {"generator", "genre"}
    overall = report["test"]["overall"]
    assert overall.auroc > 0.9  # the synthetic classes are separable
    by_id = {item.record.id: item for item in corpus}
    for row in report["texts"][:10]:  # each recorded probability is the artifact's own
        item = by_id[row["id"]]
        stats, states = measures[item.text].span(config.skip_tokens)
        hidden = len(states) // len(CACHE_LAYERS)
        chosen = np.concatenate(
            [states[CACHE_LAYERS.index(k) * hidden : (CACHE_LAYERS.index(k) + 1) * hidden] for k in (9, 12)]
        )
        p = model.probability(design_row(stats, chosen, model.likelihood_features), item.record.lang)
        assert p == pytest.approx(row["probability"], abs=1e-6)
        assert split_of(item.record) == "test"
    assert json.loads(report_json(report))["test"]["overall"]["auroc"] == pytest.approx(overall.auroc)
    assert "Held out" in report_markdown(report)


def test_the_shipped_report_is_reproducible_from_the_committed_fold_definition() -> None:
    """The folds of the shipped report are those the committed definition gives on shared/data today."""
    report = json.loads(report_path(PACKAGED_PROBE).read_text(encoding="utf-8"))
    corpus = measured_sample(load_corpus([labelled_data()]))
    folds = {fold.name: fold for fold in held_out_folds(corpus)}
    assert set(report["held_out"]) <= set(folds)
    for name, metrics in report["held_out"].items():
        judged = [item for item, keep in zip(corpus, folds[name].judge, strict=True) if keep]
        # texts too short to fit on are left out of the report's folds, never added
        assert metrics["n"] <= len(judged) and metrics["n"] >= 0.95 * len(judged), name
        assert metrics["n_machine"] <= sum(item.machine for item in judged)


def test_the_shipped_report_recomputes_from_its_recorded_probabilities() -> None:
    report = json.loads(report_path(PACKAGED_PROBE).read_text(encoding="utf-8"))
    model = ProbeModel.load(PACKAGED_PROBE)
    labels = {item.record.id: item for item in measured_sample(load_corpus([labelled_data()]))}
    rows = report["texts"]
    truth = [labels[row["id"]].machine for row in rows]
    probability = [row["probability"] for row in rows]
    again = compute_metrics(truth, probability, [row["label"] != "human" for row in rows])
    assert again.model_dump() == pytest.approx(report["test"]["overall"])
    assert report["data_sha256"] == model.data_sha256


def test_cutting_a_segment_in_two_halves_fits_the_same_document_model() -> None:
    """A segment is weighed by its tokens and each label by its summed weight, so two copies of a segment,
    each of half its tokens, are the segment: nothing depends on how many rows a label has."""
    corpus, measures = _corpus(per_cell=20)
    config = ProbeConfig(layers=(9, 12), min_tokens=16)
    rows, owners, tokens = segment_design(corpus, measures, config)
    texts = np.arange(len(corpus))
    cut = np.flatnonzero(np.array([corpus[o].machine for o in owners]))[:40]  # machine segments only
    assert (tokens[cut] % 2 == 0).any()
    halves = (
        np.vstack([rows, rows[cut]]),
        np.concatenate([owners, owners[cut]]),
        np.concatenate([tokens, tokens[cut]]).astype(float),
    )
    halves[2][cut] /= 2
    halves[2][len(tokens) :] /= 2
    whole = fit_document(corpus, (rows, owners, tokens), texts, config)
    split = fit_document(corpus, halves, texts, config)
    np.testing.assert_allclose(split.mean, whole.mean, rtol=1e-9)
    np.testing.assert_allclose(split.scale, whole.scale, rtol=1e-9)
    np.testing.assert_allclose(split.coef, whole.coef, rtol=1e-4, atol=1e-6)
    assert split.intercept == pytest.approx(whole.intercept, rel=1e-4, abs=1e-6)
