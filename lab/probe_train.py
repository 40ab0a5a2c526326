"""`veritext train-probe`: measure the corpus sample, fit the probe detector, write it and its report.

1. The sample of corpus.py is measured once into the measure cache (measures.py; the slow part, about
   an hour and a half on two CPU cores the first time, seconds afterwards).
2. `fit_probe` (no model needed, only the cache) fits the shipped linear model on the training and
   validation splits, its calibration and thresholds on out-of-genre logits (probe_fit.py), and builds
   the report (probe_report.py) from the held-out folds (folds.py) and the test split.
"""

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import roc_auc_score

from lab.corpus import Corpus, load_corpus, measured_sample
from lab.dataset import data_hash
from lab.folds import Fold, held_out_folds, trainable
from lab.measures import CACHE_LAYERS, DEFAULT_MEASURES, WORD_CUTS, Measure, MeasureCache
from lab.probe_fit import (
    PRIOR,
    THRESHOLD_RULE,
    Linear,
    ProbeConfig,
    calibrate,
    design,
    fit_linear,
    fold_models,
    out_of_genre_logits,
    out_of_genre_models,
    span_design,
)
from lab.probe_report import Report, calibrated, fold_metrics, metrics_of
from lab.train import progress_bar
from scorer.detectors.features import FEATURE_NAMES
from scorer.detectors.packaged import REFERENCE_NUMERICS
from scorer.detectors.probe import probe_version
from scorer.detectors.probe_model import ProbeModel
from scorer.detectors.registry import DetectorOptions, load_statistics

__all__ = ["fit_probe", "measure_corpus", "train_probe"]

WINDOW = 512


def measure_corpus(
    paths: Sequence[Path], *, options: DetectorOptions, model_dir: Path, measures_dir: Path, console: Console
) -> tuple[Corpus, dict[str, Measure], str]:
    """The corpus sample, its measures (measuring what the cache lacks) and the scoring model's id."""
    corpus = measured_sample(load_corpus(paths))
    statistics = load_statistics(
        model_dir, options.replace(stats_cache=None), window=WINDOW, skip_tokens=0, probe_layers=CACHE_LAYERS
    )
    cache = MeasureCache(statistics, measures_dir)
    texts = [item.text for item in corpus]
    with progress_bar(console) as progress:
        task = progress.add_task("measuring", total=len(texts))
        cache.measure(texts, progress=lambda n: progress.advance(task, n))
    performer = statistics.performer.model_id if statistics.performer else None
    if performer is not None:
        raise ValueError("the probe detector is fitted on the scoring model alone; unset the performer model")
    return corpus, {text: cache.get(text) for text in texts}, statistics.model.model_id


def train_probe(
    paths: Sequence[Path],
    *,
    options: DetectorOptions,
    model_dir: Path,
    config: ProbeConfig,
    console: Console,
    measures_dir: Path = DEFAULT_MEASURES,
) -> tuple[ProbeModel, Report]:
    corpus, measures, model_id = measure_corpus(
        paths, options=options, model_dir=model_dir, measures_dir=measures_dir, console=console
    )
    return fit_probe(corpus, measures, config, model_id=model_id)


def _held_out_aurocs(corpus: Corpus, x: np.ndarray, folds: Sequence[Fold], models: dict[str, Linear]) -> list[float]:
    """AUROC of each fold model on its judged texts, for the folds that hold both labels."""
    machine = np.array([item.machine for item in corpus])
    aurocs = []
    for fold in folds:
        judged = np.flatnonzero(fold.judge)
        if len(set(machine[judged])) == 2:
            aurocs.append(float(roc_auc_score(machine[judged], models[fold.name].logits(x[judged]))))
    return aurocs


def fit_probe(
    corpus: Corpus, measures: dict[str, Measure], config: ProbeConfig, *, model_id: str
) -> tuple[ProbeModel, Report]:
    """The artifact and its report, from measured texts (see the module docstring)."""
    x, kept = design(corpus, measures, config)
    corpus = [item for item, keep in zip(corpus, kept, strict=True) if keep]
    counted = np.array([measures[item.text].n_tokens - config.skip_tokens for item in corpus])
    long_enough = counted >= config.min_tokens
    corpus, x = [item for item, keep in zip(corpus, long_enough, strict=True) if keep], x[long_enough]
    folds = held_out_folds(corpus)
    fit_mask = trainable(corpus)
    per_fold = fold_models(corpus, x, folds, config)
    models = out_of_genre_models(per_fold)
    oof = out_of_genre_logits(corpus, x, np.arange(len(corpus)), models)
    spans, owners = span_design(corpus, measures, config)
    calibrations = calibrate(corpus, oof, out_of_genre_logits(corpus, spans, owners, models), owners, fit_mask)
    fitted = fit_linear(x[fit_mask], [item for item, keep in zip(corpus, fit_mask, strict=True) if keep], config)
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
        data_sha256=data_hash([item.record for item, keep in zip(corpus, fit_mask, strict=True) if keep]),
        threshold_rule=THRESHOLD_RULE,
    )
    return model, _report(model, corpus, measures, x, oof, (spans, owners), folds, per_fold, config)


def _report(
    model: ProbeModel,
    corpus: Corpus,
    measures: dict[str, Measure],
    x: np.ndarray,
    oof: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray],
    folds: list[Fold],
    per_fold: dict[str, Linear],
    config: ProbeConfig,
) -> Report:
    langs = [item.record.lang or "other" for item in corpus]
    variants = {
        "likelihood features alone": replace(config, layers=(), likelihood_features=FEATURE_NAMES),
        "probe alone": replace(config, likelihood_features=()),
        "both": replace(config, likelihood_features=FEATURE_NAMES),
    }
    comparison = {}
    for name, variant in variants.items():
        if variant == config:  # the shipped one: its fold models are fitted already
            aurocs = _held_out_aurocs(corpus, x, folds, per_fold)
        else:
            rows = design(corpus, measures, variant)[0]
            aurocs = _held_out_aurocs(corpus, rows, folds, fold_models(corpus, rows, folds, variant))
        comparison[name] = {"mean": float(np.mean(aurocs)), "lowest": min(aurocs)}
    held_out = {
        fold.name: fold_metrics(model, corpus, fold, per_fold[fold.name].logits(x[fold.judge])) for fold in folds
    }
    human_fpr = {}
    oof_p = calibrated(model, oof, langs)
    for key in sorted({f"{langs[i]} / {item.genre}" for i, item in enumerate(corpus) if not item.machine}):
        index = [i for i, item in enumerate(corpus) if not item.machine and f"{langs[i]} / {item.genre}" == key]
        thresholds = np.array([model.calibration(langs[i]).threshold for i in index])
        human_fpr[key] = {"n": len(index), "fpr": float((oof_p[index] >= thresholds).mean())}
    test = np.flatnonzero([item.split == "test" for item in corpus])
    final = np.array([model.logit(row) for row in x[test]])
    test_p = calibrated(model, final, [langs[i] for i in test])
    by: dict[str, dict[str, object]] = {"lang": {}, "genre": {}, "generator": {}}
    for field, key in (("lang", lambda i: langs[i]), ("genre", lambda i: f"{langs[i]} / {corpus[i].genre}")):
        for value in sorted({key(i) for i in test}):
            chosen = np.array([key(i) == value for i in test])
            by[field][value] = metrics_of(model, corpus, test[chosen], test_p[chosen])
    for family in sorted({corpus[i].family for i in test if corpus[i].family}):
        cells = {(langs[i], corpus[i].genre) for i in test if corpus[i].family == family}
        chosen = np.array(
            [
                corpus[i].family == family or (not corpus[i].machine and (langs[i], corpus[i].genre) in cells)
                for i in test
            ]
        )
        by["generator"][family] = metrics_of(model, corpus, test[chosen], test_p[chosen])
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
    span_rows, owners = spans
    of_test = np.isin(owners, test)
    span_langs = [langs[o] for o in owners[of_test]]
    span_logits = np.array([model.logit(row) for row in span_rows[of_test]])
    a = np.array([model.calibration(lang).segment_a for lang in span_langs])
    b = np.array([model.calibration(lang).segment_b for lang in span_langs])
    segments = metrics_of(model, corpus, owners[of_test], 1.0 / (1.0 + np.exp(-(a * span_logits + b))))
    return {
        "detector": f"probe@{probe_version(model, REFERENCE_NUMERICS)}",  # fitted and evaluated on CPU fp32
        "data_sha256": model.data_sha256,
        "prior": model.prior,
        "config": vars(config),
        "comparison": comparison,
        "held_out": held_out,
        "human_fpr": human_fpr,
        "test": {"overall": metrics_of(model, corpus, test, test_p), "by": by},
        "length": length,
        "segments": segments,
        "texts": [{"id": corpus[i].record.id, "probability": float(p)} for i, p in zip(test, test_p, strict=True)],
    }
