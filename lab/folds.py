"""The committed definition of the held-out evaluation: which texts each fold trains on and judges.

A number from the split a detector was tuned on says little about text from new models and new genres,
so every choice of the probe detector (features, layers, regularisation, calibration, threshold) is
judged on folds that hold out a whole generator family or a whole genre (corpus.py names both):

- **generator:<family>** trains on every text of the training and validation splits except that
  family's, and judges that family's machine texts (all splits) against the test-split human texts of
  the same language and genres: a generator the model never saw.
- **genre:<genre>** trains on every text of the training and validation splits outside that genre, and
  judges all the genre's texts: human writing (and machine writing) of a kind the model never saw.

Copies with typos (corpus.py `with_typos`) are fitted on with their original's genre and family, and
never judged. The test split (dataset.split_of) is never trained on in any fold, nor by the shipped model, so the
in-distribution report on it stays honest too. Folds with fewer than `MIN_TEXTS` texts to judge are
left out (GigaChat and YandexGPT wrote 6 texts in all).
"""

from dataclasses import dataclass

import numpy as np

from lab.corpus import Corpus

__all__ = ["MIN_TEXTS", "Fold", "held_out_folds", "trainable"]

MIN_TEXTS = 20


@dataclass(frozen=True)
class Fold:
    name: str  # "generator:gpt-3.5", "genre:essays"
    train: np.ndarray  # boolean mask over the corpus
    judge: np.ndarray  # boolean mask over the corpus

    @property
    def kind(self) -> str:
        return self.name.partition(":")[0]


def trainable(corpus: Corpus) -> np.ndarray:
    """Texts any model may be fitted on: the training and validation splits."""
    return np.array([item.split != "test" for item in corpus])


def held_out_folds(corpus: Corpus) -> list[Fold]:
    fit = trainable(corpus)
    machine = np.array([item.machine for item in corpus])
    family = np.array([item.family or "" for item in corpus])
    genre = np.array([item.genre for item in corpus])
    cell = np.array([f"{item.record.lang}|{item.genre}" for item in corpus])
    judged = np.array([not item.augmented for item in corpus])  # copies with typos are fitted on only
    folds = []
    for name in sorted(set(family[machine])):
        mine = machine & (family == name)
        humans = ~machine & ~fit & np.isin(cell, cell[mine])
        folds.append(Fold(f"generator:{name}", fit & ~mine, (mine | humans) & judged))
    for name in sorted(set(genre)):
        mine = genre == name
        folds.append(Fold(f"genre:{name}", fit & ~mine, mine & judged))
    return [fold for fold in folds if fold.judge.sum() >= MIN_TEXTS and fold.train.any()]
