"""The bot's handlers and its long-polling loop (python-telegram-bot). `/start` and `/help` explain it;
a text message, a .txt file or a document (PDF, DOCX, ODT, HTML, Markdown: read by the gateway's
`/v1/documents`, its passages named by page or paragraph, as the bot does not hold its text) is scored
through the gateway and answered; a chat past its rate limit, a file it cannot read and every trouble
of the gateway get a polite answer. No update can stop
the bot: an unexpected error is logged and the next update is handled."""

import logging
import time
from collections.abc import Awaitable, Callable

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

from bot import replies
from bot.gateway import GatewayClient, GatewayTrouble, Scored
from bot.metrics import BotMetrics
from bot.settings import BotSettings
from schemas.errors import ConfigError, ServiceUnavailable

__all__ = ["build_bot", "poll"]

log = logging.getLogger(__name__)


class _Handlers:
    def __init__(self, settings: BotSettings, gateway: GatewayClient, metrics: BotMetrics) -> None:
        self._settings = settings
        self._gateway = gateway
        self._count = metrics.messages
        self._limit = parse(settings.rate_limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def help(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message is not None:
            await _reply(update.effective_message, replies.HELP)

    async def text(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text and await self._allowed(message):
            text = message.text
            await self._answer(message, lambda: self._gateway.score(text))

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.document is None:
            return
        lang = _lang(message)
        document = message.document
        too_big = replies.too_big(self._settings.max_file_bytes, lang)
        plain = (document.file_name or "").lower().endswith(".txt") or document.mime_type == "text/plain"
        if (document.file_size or 0) > self._settings.max_file_bytes:
            await self._say(message, too_big, "unreadable")
            return
        if not await self._allowed(message):  # before the download: a limited chat costs no traffic
            return
        file = await context.bot.get_file(document.file_id)
        content = bytes(await file.download_as_bytearray())
        if len(content) > self._settings.max_file_bytes:
            await self._say(message, too_big, "unreadable")
            return
        if not plain:  # PDF, DOCX, ...: the gateway reads it (and says why when it cannot)
            await self._answer(message, lambda: self._gateway.score_document(content, document.file_name))
            return
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            await self._say(message, replies.unreadable(lang), "unreadable")
            return
        await self._answer(message, lambda: self._gateway.score(text))

    async def _allowed(self, message: Message) -> bool:
        """Count the text against the chat's rate limit; past it, say when to try again."""
        chat = str(message.chat_id)
        if self._limiter.hit(self._limit, chat):
            return True
        reset = self._limiter.get_window_stats(self._limit, chat).reset_time
        await self._say(message, replies.wait_a_bit(max(1, int(reset - time.time())), _lang(message)), "limited")
        return False

    async def _answer(self, message: Message, scoring: Callable[[], Awaitable[Scored]]) -> None:
        lang = _lang(message)
        chat = str(message.chat_id)
        try:
            scored = await scoring()
        except GatewayTrouble as problem:
            log.warning("the gateway did not score a text of chat %s: %s", chat, problem)
            await self._say(message, replies.trouble(problem, lang), "trouble")
            return
        log.info("answered chat %s: %.3f %s", chat, scored.probability, scored.label)
        await self._say(message, replies.verdict(scored, lang), "too_short" if scored.too_short else "scored")

    async def _say(self, message: Message, text: str, outcome: str) -> None:
        await _reply(message, text)
        self._count.labels(outcome).inc()


def _lang(message: Message) -> str:
    return replies.language_of(message.from_user.language_code if message.from_user else None)


async def _reply(message: Message, text: str) -> None:
    await message.reply_text(text, parse_mode=ParseMode.HTML)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log and carry on: one update that fails (Telegram refusing a reply, a network blip) stops nothing."""
    level = logging.WARNING if isinstance(context.error, TelegramError) else logging.ERROR
    log.log(level, "an update failed: %s", context.error, exc_info=context.error if level == logging.ERROR else None)


def build_bot(settings: BotSettings, metrics: BotMetrics) -> Application:
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise ConfigError("set VERITEXT_TELEGRAM_TOKEN to the bot's token (from @BotFather)")
    gateway = GatewayClient(settings.gateway_url, settings.gateway_key, settings.wait_s)
    handlers = _Handlers(settings, gateway, metrics)
    api = settings.api_url.rstrip("/")

    async def close_gateway(_: Application) -> None:
        await gateway.close()

    application = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(8)  # a text waiting for its score does not hold up the others
        .post_shutdown(close_gateway)
        .build()
    )
    application.add_handler(CommandHandler(["start", "help"], handlers.help))
    application.add_handler(MessageHandler(filters.Document.ALL, handlers.document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    application.add_error_handler(_on_error)
    return application


def poll(application: Application, settings: BotSettings) -> None:
    """Long-poll until SIGINT or SIGTERM; Telegram refusing the token or not answering is a clear error."""
    try:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken as exc:
        raise ConfigError(f"Telegram refused the bot's token (VERITEXT_TELEGRAM_TOKEN): {exc}") from None
    except NetworkError as exc:
        raise ServiceUnavailable(f"cannot reach the Bot API at {settings.api_url}: {exc}") from None
