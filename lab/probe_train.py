"""`veritext train-probe`: measure the corpus sample, fit the probe detector, write it and its report.

1. The sample of corpus.py, its copies with typos and the co-written texts of cowritten.py are measured
   once into the measure cache (measures.py; the slow part: 8,159 texts, about 70 minutes on two CPU
   cores the first time, seconds afterwards).
2. `fit_probe` (no model needed, only the cache) fits the shipped linear model on the training and
   validation splits, its calibration and thresholds on out-of-genre logits (probe_fit.py), and builds
   the report (probe_report.py) from the held-out folds (folds.py) and the test split.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.console import Console

from lab.corpus import Corpus, load_corpus, measured_sample, with_typos
from lab.cowritten import CoWritten, cowritten_texts, labelled_segments
from lab.dataset import data_hash
from lab.folds import Fold, held_out_folds, trainable
from lab.measures import CACHE_LAYERS, DEFAULT_MEASURES, WORD_CUTS, Measure, MeasureCache
from lab.probe_fit import (
    PRIOR,
    THRESHOLD_RULE,
    Linear,
    ProbeConfig,
    SegmentRows,
    calibrate,
    design,
    fit_document,
    fit_segments,
    fold_models,
    out_of_genre_logits,
    out_of_genre_models,
    segment_design,
    span_row,
)
from lab.probe_report import Report, calibrated, fold_metrics, metrics_of
from lab.train import progress_bar
from schemas.verdict import Segment
from scorer.detectors.packaged import REFERENCE_NUMERICS
from scorer.detectors.probe import probe_version
from scorer.detectors.probe_model import ProbeModel
from scorer.detectors.registry import DetectorOptions, load_statistics
from scorer.detectors.verdicts import label_of

__all__ = ["fit_probe", "measure_corpus", "train_probe"]

WINDOW = 512


def measure_corpus(
    paths: Sequence[Path], *, options: DetectorOptions, model_dir: Path, measures_dir: Path, console: Console
) -> tuple[Corpus, list[CoWritten], dict[str, Measure], str]:
    """The corpus sample with its copies with typos, the co-written texts made from it, their measures
    (measuring what the cache lacks) and the scoring model's id."""
    corpus = with_typos(measured_sample(load_corpus(paths)))
    cowritten = cowritten_texts(corpus)
    statistics = load_statistics(
        model_dir,
        options.replace(stats_cache=None),
        window=WINDOW,
        skip_tokens=0,
        probe_layers=CACHE_LAYERS,
        with_head=False,
    )
    cache = MeasureCache(statistics, measures_dir)
    texts = [item.text for item in corpus] + [item.text for item in cowritten]
    with progress_bar(console) as progress:
        task = progress.add_task("measuring", total=len(texts))
        cache.measure(texts, progress=lambda n: progress.advance(task, n))
    performer = statistics.performer.model_id if statistics.performer else None
    if performer is not None:
        raise ValueError("the probe detector is fitted on the scoring model alone; unset the performer model")
    return corpus, cowritten, {text: cache.get(text) for text in texts}, statistics.model.model_id


def train_probe(
    paths: Sequence[Path],
    *,
    options: DetectorOptions,
    model_dir: Path,
    config: ProbeConfig,
    console: Console,
    measures_dir: Path = DEFAULT_MEASURES,
) -> tuple[ProbeModel, Report]:
    corpus, cowritten, measures, model_id = measure_corpus(
        paths, options=options, model_dir=model_dir, measures_dir=measures_dir, console=console
    )
    return fit_probe(corpus, measures, config, model_id=model_id, cowritten=cowritten)


def _labels(
    model: ProbeModel,
    texts: np.ndarray,
    probability: np.ndarray,
    langs: Sequence[str],
    segment_rows: SegmentRows,
) -> list[str]:
    """The detector's label of each text (human, mixed, machine), at its language's threshold, its
    segments read as it reads them."""
    rows, owners, tokens = segment_rows
    segment_p = np.array([model.segment_probability(row) for row in rows])
    labels: list[str] = []
    for text, p, lang in zip(texts, probability, langs, strict=True):
        mine = np.flatnonzero(owners == text)
        segments = [Segment(start=0, end=1, probability=segment_p[j], n_tokens=int(tokens[j])) for j in mine]
        threshold = model.calibration(lang).threshold
        labels.append(label_of(float(p), threshold, segments, model.segment.threshold))
    return labels


def fit_probe(
    corpus: Corpus,
    measures: dict[str, Measure],
    config: ProbeConfig,
    *,
    model_id: str,
    cowritten: Sequence[CoWritten] = (),
) -> tuple[ProbeModel, Report]:
    """The artifact and its report, from measured texts (see the module docstring)."""
    x, kept = design(corpus, measures, config)
    corpus = [item for item, keep in zip(corpus, kept, strict=True) if keep]
    counted = np.array([measures[item.text].n_tokens - config.skip_tokens for item in corpus])
    long_enough = counted >= config.min_tokens
    corpus, x = [item for item, keep in zip(corpus, long_enough, strict=True) if keep], x[long_enough]
    folds = held_out_folds(corpus)
    fit_mask = trainable(corpus)
    segment_rows = segment_design(corpus, measures, config)
    per_fold = fold_models(corpus, segment_rows, folds, config)
    models = out_of_genre_models(per_fold)
    oof = out_of_genre_logits(corpus, x, np.arange(len(corpus)), models)
    written = np.array([not item.augmented for item in corpus])
    calibrations = calibrate(corpus, oof, fit_mask & written)
    fitted = fit_document(corpus, segment_rows, np.flatnonzero(fit_mask), config)
    segment = fit_segments(
        corpus, segment_rows[0], segment_rows[1], config, _cowritten_rows(cowritten, measures, config)
    )
    model = ProbeModel(
        model=model_id,
        window=WINDOW,
        skip_tokens=config.skip_tokens,
        layers=list(config.layers),
        likelihood_features=list(config.likelihood_features),
        min_tokens=config.min_tokens,
        segment_tokens=config.segment_tokens,
        prior=PRIOR,
        mean=fitted.mean.tolist(),
        scale=fitted.scale.tolist(),
        coef=fitted.coef.tolist(),
        intercept=fitted.intercept,
        languages=calibrations,
        segment=segment,
        data_sha256=data_hash([item.record for item, keep in zip(corpus, fit_mask, strict=True) if keep]),
        threshold_rule=THRESHOLD_RULE,
    )
    return model, _report(model, corpus, measures, x, oof, segment_rows, folds, per_fold, config)


def _cowritten_rows(
    cowritten: Sequence[CoWritten], measures: dict[str, Measure], config: ProbeConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, machine) of the co-written texts' segments that lie in one passage."""
    rows, machine = [], []
    for measure, start, end, is_machine in labelled_segments(
        cowritten, measures, config.skip_tokens, config.segment_tokens
    ):
        rows.append(span_row(measure, start, end, config))
        machine.append(is_machine)
    if not rows:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool)
    return np.array(rows), np.array(machine, dtype=bool)


def _report(
    model: ProbeModel,
    corpus: Corpus,
    measures: dict[str, Measure],
    x: np.ndarray,
    oof: np.ndarray,
    segment_rows: SegmentRows,
    folds: list[Fold],
    per_fold: dict[str, Linear],
    config: ProbeConfig,
) -> Report:
    langs = [item.record.lang or "other" for item in corpus]
    held_out = {
        fold.name: fold_metrics(model, corpus, fold, per_fold[fold.name].logits(x[fold.judge])) for fold in folds
    }
    human_fpr = {}
    oof_p = calibrated(model, oof, langs)
    humans = [i for i, item in enumerate(corpus) if not item.machine and not item.augmented]
    for key in sorted({f"{langs[i]} / {corpus[i].genre}" for i in humans}):
        index = [i for i in humans if f"{langs[i]} / {corpus[i].genre}" == key]
        thresholds = np.array([model.calibration(langs[i]).threshold for i in index])
        human_fpr[key] = {"n": len(index), "fpr": float((oof_p[index] >= thresholds).mean())}
    test = np.flatnonzero([item.split == "test" for item in corpus])
    final = np.array([model.logit(row) for row in x[test]])
    test_p = calibrated(model, final, [langs[i] for i in test])
    labels = _labels(model, test, test_p, [langs[i] for i in test], segment_rows)
    flagged = np.array([label != "human" for label in labels])
    by: dict[str, dict[str, object]] = {"lang": {}, "genre": {}, "generator": {}}
    for field, group_of in (("lang", lambda i: langs[i]), ("genre", lambda i: f"{langs[i]} / {corpus[i].genre}")):
        for value in sorted({group_of(i) for i in test}):
            chosen = np.array([group_of(i) == value for i in test])
            by[field][value] = metrics_of(model, corpus, test[chosen], test_p[chosen], flagged=flagged[chosen])
    for family in sorted({name for i in test if (name := corpus[i].family)}):
        cells = {(langs[i], corpus[i].genre) for i in test if corpus[i].family == family}
        chosen = np.array(
            [
                corpus[i].family == family or (not corpus[i].machine and (langs[i], corpus[i].genre) in cells)
                for i in test
            ]
        )
        by["generator"][family] = metrics_of(model, corpus, test[chosen], test_p[chosen], flagged=flagged[chosen])
    length = {}
    test_items = [corpus[i] for i in test]
    for words in WORD_CUTS:
        cut, kept = design(test_items, measures, config, words=words)
        index = test[kept]
        if len(cut):
            p = calibrated(model, np.array([model.logit(row) for row in cut]), [langs[i] for i in index])
            ends = np.array([measures[corpus[i].text].word_ends[words] for i in index])
            p[ends - config.skip_tokens < config.min_tokens] = model.prior  # too short: the prior, as live
            length[f"{words} words"] = metrics_of(model, corpus, index, p)
    rows, owners, _ = segment_rows
    of_test = np.isin(owners, test)
    segment_p = np.array([model.segment_probability(row) for row in rows[of_test]])
    segments = metrics_of(model, corpus, owners[of_test], segment_p, model.segment.threshold)
    return {
        "detector": f"probe@{probe_version(model, REFERENCE_NUMERICS)}",  # fitted and evaluated on CPU fp32
        "data_sha256": model.data_sha256,
        "prior": model.prior,
        "config": vars(config),
        "held_out": held_out,
        "human_fpr": human_fpr,
        "test": {"overall": metrics_of(model, corpus, test, test_p, flagged=flagged), "by": by},
        "length": length,
        "segments": segments,
        "texts": [
            {"id": corpus[i].record.id, "probability": float(p), "label": label}
            for i, p, label in zip(test, test_p, labels, strict=True)
        ],
    }
