"""The labelled corpus the probe detector is fitted and judged on: genres, generator families, the
repair of a known trap, and the sample that is measured.

Records come from `shared/data/` (see its README and `chat/README.md`) through `dataset.read_labelled`.

- **Genre** is what a text is, whoever wrote it: a record's (lang, domain) maps to one of `GENRES`, so
  that a held-out genre takes its human and machine sides with it (`GENRE_OF`). Machine-only genres
  (Gemini's encyclopedic and expository prose, the Russian explainers) share a genre with the human text
  closest to them (Wikipedia paragraphs for encyclopedic prose), or stand alone ("expository": judged by
  the share of machine texts caught at the operating point).
- **Generator family** groups versions of one model line (`family_of`), so that holding out "gpt-3.5"
  removes both gpt-3.5-turbo and gpt-3.5-turbo-0613, and "base-lm" all five 2019-22 base models.
- **Repair.** The human arXiv abstracts of DetectRL have words glued together where the source had a
  line break ("themodel", "(CNGS)neutrino"); the machine abstracts never do, so a tokenizer-level feature
  would learn "glued words = human" (chat/README.md). `repair` splits a lowercase word unknown to the
  rest of the English corpus when it splits into two words that the corpus knows well, and puts the
  missing space after a closing bracket or a full stop glued to the next word. Applied to those texts
  only, before they are measured.
- **Left out:** DetectRL's human texts that an LLM paraphrased, polished or back-translated
  (more/README.md): they are labelled human but are no longer a person's writing alone, and as "human"
  they set the operating threshold at 0.99 (perturbed human texts, typos and split words, stay).
- **Typos on both labels** (`with_typos`): a copy of one in `TYPO_EVERY` training-split texts, human and
  machine alike, with typos (lab/attacks.py `typos`), read as the detector reads it. Fitted on, never
  judged: held-out folds, the calibration and the report read the texts as they were written.
- **The sample** (`measured_sample`): per cell (file, label, domain, generator) up to `CAPS` records, one
  per source document (`group_id`) and label, in the hashed order of `dataset.sample`. It keeps what the
  2-core machine can measure in about an hour and a half, favouring the modern chat-model files.
"""

import collections
import dataclasses
import hashlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lab.attacks import typos
from lab.dataset import SPLIT_SALT, LabelledText, read_labelled, split_of
from schemas.reading import read_text
from schemas.text import TextRejected, clean_text

__all__ = [
    "GENRES",
    "GENRE_OF",
    "Corpus",
    "CorpusText",
    "family_of",
    "load_corpus",
    "measured_sample",
    "with_typos",
]

GENRE_OF: dict[tuple[str, str], str] = {
    ("en", "xsum"): "news",
    ("en", "squad"): "encyclopedic",
    ("en", "writing"): "fiction",
    ("en", "academic_abstract"): "academic",
    ("en", "review"): "reviews",
    ("en", "student_essay"): "essays",
    ("en", "encyclopedic_history"): "encyclopedic",
    ("en", "encyclopedic_philosophy"): "encyclopedic",
    ("en", "encyclopedic_religion"): "encyclopedic",
    ("en", "expository_mixed"): "expository",
    ("en", "job_descriptions"): "expository",
    ("ru", "news"): "news",
    ("ru", "ruatd"): "news",
    ("ru", "advice-explainer"): "expository",
    ("ru", "expository_mixed"): "expository",
    ("ru", "academic_abstract"): "academic",
    ("ru", "academic_paper_body"): "academic",
    # more/: DetectRL, ImBD rewrites, L2R's 19 genres (grouped), M4's Russian ChatGPT rewrites
    ("en", "xsum_news"): "news",
    ("en", "writingprompts_story"): "fiction",
    ("en", "squad_wikipedia"): "encyclopedic",
    ("en", "arxiv_abstract"): "academic",
    ("en", "yelp_review"): "reviews",
    ("en", "mixed(arxiv|xsum|writing|yelp)"): "attacked",
    ("en", "NewsArticle"): "news",
    ("en", "AcademicResearch"): "academic",
    ("en", "LiteratureCreativeWriting"): "fiction",
    ("en", "ProductReview"): "reviews",
    ("en", "LegalDocument"): "legal-government",
    ("en", "GovernmentPublic"): "legal-government",
    ("en", "Finance"): "business",
    ("en", "Business"): "business",
    ("en", "EducationMaterial"): "education-technical",
    ("en", "TechnicalWriting"): "education-technical",
    ("en", "MedicalText"): "medical",
    ("en", "Religious"): "religious",
    ("en", "Entertainment"): "lifestyle",
    ("en", "Sports"): "lifestyle",
    ("en", "FoodCusine"): "lifestyle",
    ("en", "ArtCulture"): "lifestyle",
    ("en", "Environmental"): "lifestyle",
    ("en", "OnlineContent"): "online-personal",
    ("en", "PersonalCommunication"): "online-personal",
    ("ru", "ruatd_mixed"): "news",
}
GENRES = tuple(sorted(set(GENRE_OF.values())))

_FAMILIES = (  # (prefix of the generator name, family), first match wins
    ("gpt2", "base-lm"),
    ("opt-", "base-lm"),
    ("gpt-neo", "base-lm"),
    ("gpt-j", "base-lm"),
    ("gpt-3.5", "gpt-3.5"),
    ("gpt-3-turbo", "gpt-3.5"),  # L2R's name for gpt-3.5-turbo
    ("claude", "claude"),
    ("llama-2", "llama-2-chat"),
    ("llama-3", "llama-3"),
    ("palm-2", "palm-2"),
    ("gemini-1.5", "gemini-1.5"),
    ("gemini-2.5", "gemini-2.5"),
    ("gemini-2.0", "gemini-2.0"),
    ("chatgpt 4o", "gpt-4o"),
    ("gpt-4o", "gpt-4o"),
    ("mistral", "small-open-chat"),  # the ImBD 7B instruct models, held out together
    ("qwen2", "small-open-chat"),
    ("deepseek", "small-open-chat"),
    ("gigachat", "ru-assistants"),
    ("yandexgpt", "ru-assistants"),
)

# file stem -> {label: cap}: how many records of each (label, domain, generator) cell of the file the
# sample measures; files and labels not named: none
_CAPS: dict[str, dict[str, int]] = {
    "en_detectrl": {"human": 150, "machine": 60},
    "en_outfox_essays": {"human": 250, "machine": 250},
    "en_gemini_dataset_build": {"machine": 60},
    "ru_gemini_dataset_build": {"machine": 131},
    "ru_sci_abstracts": {"human": 250, "machine": 10},
    "ru_sci_paper_paragraphs_human": {"human": 150},
    "xsum": {"human": 120, "machine": 24},
    "squad": {"human": 120, "machine": 24},
    "writing": {"human": 120, "machine": 24},
    "ruatd_llama2": {"human": 98, "machine": 34},
    "lenta_news_human": {"human": 250},
    "llm_explainer_machine": {"machine": 120},
    "en_l2r": {"human": 40, "machine": 12},
    "en_detectrl_xsum_writing": {"human": 150, "machine": 12},
    "en_detectrl_attacks": {"human": 150, "machine": 60},
    "en_imbd_rewrites": {"machine": 30},
    "ru_m4_chatgpt": {"human": 143, "machine": 148},
}
_MEASURE_ORDER = (  # modern chat-model text first, so experiments can start on a partial cache
    "en_l2r",
    "ru_m4_chatgpt",
    "en_detectrl_attacks",
    "en_imbd_rewrites",
    "en_detectrl_xsum_writing",
    "en_detectrl",
    "en_outfox_essays",
    "en_gemini_dataset_build",
    "ru_gemini_dataset_build",
    "llm_explainer_machine",
    "ruatd_llama2",
    "lenta_news_human",
    "ru_sci_abstracts",
    "ru_sci_paper_paragraphs_human",
    "xsum",
    "squad",
    "writing",
)


def family_of(generator: str | None) -> str | None:
    if generator is None:
        return None
    name = generator.lower()
    return next((family for prefix, family in _FAMILIES if name.startswith(prefix)), name)


@dataclass(frozen=True)
class CorpusText:
    """A labelled record with what the fitting and the held-out folds need to know of it."""

    record: LabelledText
    text: str  # the text as measured (repaired where the file has a known trap)
    file: str  # stem of the file it came from
    genre: str
    family: str | None
    augmented: bool = False  # a copy with typos (with_typos): fitted on, never judged

    @property
    def split(self) -> str:
        return split_of(self.record)

    @property
    def machine(self) -> bool:
        return self.record.label == "machine"


Corpus = list[CorpusText]


def load_corpus(paths: Sequence[Path]) -> Corpus:
    """Every record under `paths` (files or folders of JSONL), with genre and family, repaired."""
    files = [f for path in paths for f in (sorted(Path(path).rglob("*.jsonl")) if Path(path).is_dir() else [path])]
    records = [(Path(f).stem, r) for f in files for r in read_labelled([Path(f)])]
    known = _english_words(r for stem, r in records if not _glued(stem, r))
    corpus = []
    for stem, record in records:
        if record.label == "human" and (record.attack or "").startswith("paraphrase"):
            continue  # a human text an LLM paraphrased or polished is no longer a person's writing alone
        genre = GENRE_OF.get((record.lang or "", record.domain or ""))
        if genre is None:
            raise ValueError(f"{stem}: no genre for lang {record.lang!r}, domain {record.domain!r}")
        text = _repair(record.text, known) if _glued(stem, record) else _tidy(stem, record)
        try:
            read = read_text(clean_text(text).text).text
        except TextRejected:
            continue
        corpus.append(CorpusText(record, read, stem, genre, family_of(record.generator)))
    return corpus


_TOKENISED = re.compile(r" (n't|'s|'re|'ve|'ll|'d|'m|[.,;:!?)])|([(]) ")
_SENTENCE_END = re.compile(r"[.!?…][\"'»”)]*(?=\s|$)")


def _tidy(stem: str, record: LabelledText) -> str:
    """The traps of more/ (its README) that a probe could learn as a shortcut, repaired on both labels:
    WritingPrompts' tokenised human text ("ca n't", " ."), XSum's sentences glued at a full stop
    ("served.It"), and texts cut mid-sentence (L2R's human side, ImBD's length limit) ended at their last
    full sentence when that keeps most of them."""
    text = record.text
    if stem.startswith("en_detectrl") and record.domain in ("writingprompts_story", "writing"):
        text = _TOKENISED.sub(lambda m: m.group(1) or m.group(2), text)
    if stem.startswith("en_detectrl") and record.domain in ("xsum_news", "xsum"):
        text = re.sub(r"(?<=[a-z])\.(?=[A-Z][a-z])", ". ", text)
    if stem in ("en_l2r", "en_imbd_rewrites"):
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        if ends and ends[-1] < len(text.rstrip()) and ends[-1] >= 0.7 * len(text):
            text = text[: ends[-1]]
    return text


def measured_sample(corpus: Corpus) -> Corpus:
    """The records the offline cache measures, the modern files first (see the module docstring)."""
    cells: dict[tuple[str, str, str | None, str | None], list[CorpusText]] = collections.defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for item in sorted(corpus, key=_order):
        record = item.record
        cap = _CAPS.get(item.file, {}).get(record.label, 0)
        key = (item.file, record.label, record.domain, record.generator)
        if len(cells[key]) >= cap or (record.split_key, record.label) in seen:
            continue
        cells[key].append(item)
        seen.add((record.split_key, record.label))
    rank = {stem: i for i, stem in enumerate(_MEASURE_ORDER)}
    chosen = [item for cell in cells.values() for item in cell]
    return sorted(chosen, key=lambda item: (rank.get(item.file, len(rank)), _order(item)))


TYPO_EVERY = 4


def with_typos(corpus: Corpus) -> Corpus:
    """`corpus` and, after it, the copies with typos (see the module docstring)."""
    copies = []
    for item in corpus:
        digest = _order(item)
        if item.split != "train" or int(digest[:8], 16) % TYPO_EVERY:
            continue
        typed = typos(item.text, random.Random(digest))
        copies.append(dataclasses.replace(item, text=read_text(typed).text, augmented=True))
    return [*corpus, *copies]


def _order(item: CorpusText) -> str:
    return hashlib.sha256(f"{SPLIT_SALT}|{item.record.id or item.record.text}".encode()).hexdigest()


def _glued(stem: str, record: LabelledText) -> bool:
    return (
        stem.startswith("en_detectrl")
        and record.domain in ("academic_abstract", "arxiv_abstract")
        and record.label == "human"
    )


_WORD = re.compile(r"[A-Za-z]+")
_LOWER_WORD = re.compile(r"\b[a-z]{4,}\b")
_MIN_PART_COUNT = 5  # both halves of a split must be this common in the rest of the corpus
_KNOWN_COUNT = 3  # a word seen this often in the rest of the corpus is a word, not a glued pair
_FUNCTION_WORDS = "the|The|of|and|which|that|from|with|in|on|at|to|for|by|is|are|as|an|a|we|We|this|these|our"


def _english_words(records: Iterable[LabelledText]) -> collections.Counter[str]:
    return collections.Counter(
        word.lower() for record in records if record.lang == "en" for word in _WORD.findall(record.text)
    )


def _repair(text: str, known: collections.Counter[str]) -> str:
    text = re.sub(r"(?<=[A-Za-z])([.,;:])(?=[A-Za-z]{2})", r"\1 ", text)  # "LHC,within", "results.We"
    text = re.sub(r"\)(?=[A-Za-z])", ") ", text)
    text = re.sub(r"(?<=[a-z]{2})(?=[A-Z][a-z])", " ", text)  # "theInfrared"
    text = re.sub(rf"\b({_FUNCTION_WORDS})(?=[A-Z])", r"\1 ", text)  # "TheB-physics"
    text = re.sub(rf"(?<=[A-Z]{{2}})({_FUNCTION_WORDS})\b", r" \1", text)  # "LEPon"

    def split(match: re.Match[str]) -> str:
        word = match.group(0)
        if known[word] >= _KNOWN_COUNT:
            return word
        candidates = [(_split_score(word[:i], word[i:], known), i) for i in range(1, len(word) - 1)]
        score, at = max(candidates, default=(0, 0))
        return f"{word[:at]} {word[at:]}" if score >= _MIN_PART_COUNT else word

    return _LOWER_WORD.sub(split, text)


def _split_score(left: str, right: str, known: collections.Counter[str]) -> int:
    """How sure a split is: the rarer half's count, or enough when one half is a function word and the
    other a word of the corpus ("fromorbifold", "whichare")."""
    functions = _FUNCTION_WORDS.split("|")
    if (left.lower() in functions and known[right] > 0) or (right in functions and known[left] > 0):
        return _MIN_PART_COUNT
    return min(known[left], known[right])
