"""What the bot says, in Russian and English: the help, a verdict with its most machine-like
sentences, and a polite message for every trouble. Telegram's HTML formatting; every piece of the
user's text is escaped."""

from html import escape

from bot.gateway import GatewayTrouble, Scored

__all__ = ["HELP", "language_of", "too_big", "trouble", "unreadable", "verdict", "wait_a_bit"]

HELP = (
    "<b>veritext</b>: пришлите текст или документ (PDF, DOCX, ODT, HTML, Markdown, .txt), и я оценю, "
    "насколько вероятно, что его написала языковая модель, и отмечу самые «машинные» места.\n\n"
    "Send me a text or a document (PDF, DOCX, ODT, HTML, Markdown, .txt) and I will tell how likely it is "
    "that a language model wrote it, and mark its most machine-like passages.\n\n"
    "/help — это сообщение / this message"
)

_LABELS = {
    "ru": {"machine": "скорее написан машиной", "human": "скорее написан человеком", "mixed": "смешанный"},
    "en": {"machine": "likely machine-written", "human": "likely human-written", "mixed": "mixed"},
}
_CONFIDENCE = {
    "ru": {"low": "низкая", "medium": "средняя", "high": "высокая"},
    "en": {"low": "low", "medium": "medium", "high": "high"},
}
_SAY = {
    "ru": {
        "verdict": "Вероятность, что текст написан машиной: <b>{p}</b> — {label} (уверенность: {confidence}).",
        "sentences": "Самые «машинные» предложения:",
        "too_short": "Текст слишком короткий, чтобы судить: пришлите хотя бы 20 слов.",
        "detector": "детектор {detector}",
        "invalid": "Я не могу прочитать этот текст: {detail}",
        "too_long": "Текст слишком длинный: {detail}",
        "limited": "Слишком много текстов подряд. Попробуйте снова через {retry} с.",
        "busy": "Сервис сейчас занят. Попробуйте снова через {retry} с.",
        "slow": "Оценка заняла слишком много времени. Попробуйте позже.",
        "unreachable": "Сервис оценки сейчас недоступен. Попробуйте позже.",
        "refused": "Сервис отказал в оценке. Сообщите администратору бота.",
        "missing": "Сервис потерял этот текст. Пришлите его ещё раз.",
        "too_big": "Файл слишком большой: я читаю файлы до {limit} КБ.",
        "unreadable": "Я читаю текстовые файлы .txt только в UTF-8.",
        "wait": "Слишком много текстов из этого чата. Подождите {retry} с.",
    },
    "en": {
        "verdict": "Probability that a machine wrote it: <b>{p}</b> — {label} (confidence: {confidence}).",
        "sentences": "The most machine-like sentences:",
        "too_short": "The text is too short to judge: send at least 20 words.",
        "detector": "detector {detector}",
        "invalid": "I cannot read this text: {detail}",
        "too_long": "The text is too long: {detail}",
        "limited": "Too many texts in a row. Try again in {retry} s.",
        "busy": "The service is busy right now. Try again in {retry} s.",
        "slow": "Scoring took too long. Please try again later.",
        "unreachable": "The scoring service is unavailable right now. Please try again later.",
        "refused": "The service refused to score it. Please tell the bot's administrator.",
        "missing": "The service lost track of this text. Please send it again.",
        "too_big": "The file is too large: I read files up to {limit} KB.",
        "unreadable": "I read .txt files in UTF-8 only.",
        "wait": "Too many texts from this chat. Please wait {retry} s.",
    },
}
MOST_MARKED = 3  # sentences quoted at most
QUOTE_CHARS = 300


def language_of(code: str | None) -> str:
    """Russian for Russian-speaking users (and the languages near it), English for everyone else."""
    return "ru" if code and code.split("-")[0].lower() in ("ru", "uk", "be", "kk") else "en"


def verdict(scored: Scored, lang: str) -> str:
    say = _SAY[lang]
    if scored.too_short:
        return say["too_short"]
    lines = [
        say["verdict"].format(
            p=f"{scored.probability:.0%}",
            label=_LABELS[lang].get(scored.label, scored.label),
            confidence=_CONFIDENCE[lang].get(scored.confidence or "", "—"),
        )
    ]
    marked = sorted((s for s in scored.segments if s["probability"] >= 0.5), key=lambda s: -s["probability"])
    if len(scored.segments) > 1 and marked:
        lines += ["", say["sentences"]]
        for segment in marked[:MOST_MARKED]:
            if not scored.text:  # a document: the gateway names the page, the bot does not hold the text
                lines.append(f"• {escape(_part(segment.get('part', ''), lang))} — {segment['probability']:.0%}")
                continue
            quote = scored.text[segment["start"] : segment["end"]].strip()
            if len(quote) > QUOTE_CHARS:
                quote = quote[: QUOTE_CHARS - 1] + "…"
            lines.append(f"• <i>{escape(quote)}</i> — {segment['probability']:.0%}")
    lines += ["", f"<code>{escape(say['detector'].format(detector=scored.detector))}</code>"]
    return "\n".join(lines)


def _part(label: str, lang: str) -> str:
    """ "page 3" / "paragraph 2" in the reader's language."""
    if lang == "ru":
        return label.replace("page", "страница").replace("paragraph", "абзац")
    return label


def trouble(problem: GatewayTrouble, lang: str) -> str:
    return _SAY[lang][problem.kind].format(detail=escape(problem.detail[:300]), retry=problem.retry_after_s or 10)


def too_big(limit_bytes: int, lang: str) -> str:
    return _SAY[lang]["too_big"].format(limit=limit_bytes // 1000)


def unreadable(lang: str) -> str:
    return _SAY[lang]["unreadable"]


def wait_a_bit(retry_s: int, lang: str) -> str:
    return _SAY[lang]["wait"].format(retry=retry_s)
