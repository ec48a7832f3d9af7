"""Telegram through python-telegram-bot: private chats, groups, buttons, webhook or polling.

Updates arrive either through our own HTTP server (webhook mode: the secret header is
checked in constant time, the update handled before Telegram gets its 200) or from
PTB's poller (one instance per token holds a lease in the shared store; the others
only send). Every update id is handled once, whichever instance sees it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import warnings
from datetime import timedelta
from typing import Any, ClassVar

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    Document,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    PhotoSize,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.adapter import Adapter, AdapterConfigError, PlatformStore, Runtime
from bot.adapters.telegram.render import (
    CALLBACK_PREFIX,
    INLINE_PREFIX,
    MAX_CAPTION,
    Part,
    fits_inline,
    keyboard,
    parts,
)
from bot.adapters.telegram.transport import AiohttpRequest
from bot.config import Settings
from bot.delivery import Recipient, SendResult
from bot.events import MAX_FILE_BYTES, ChatKind, IncomingFile, IncomingMessage, Sender
from bot.http_edge import KiB, Refused, read_body
from bot.i18n import LANGUAGES
from bot.logsafe import quiet_payloads, redact_in_logs
from bot.render.escape import telegram_html
from bot.replies import Reply

log = logging.getLogger(__name__)
PLATFORM = "telegram"
DEFAULT_API = "https://api.telegram.org"
LEASE_SECONDS = 60.0
TOKEN_CACHE = 10_000  # long button commands remembered between `prepare` and `send`
COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
# An update carries at most a 4,096-character message and the one it replies to, with
# their entities: far below this bound.
BODY_LIMIT = 256 * KiB


def _markup_refused(exc: BadRequest) -> bool:
    """Telegram's words when the HTML itself is the problem ("can't parse entities ...")."""
    words = exc.message.lower()
    return "entit" in words or "tag" in words


class TelegramConfigError(AdapterConfigError):
    """The settings cannot work (a webhook without a secret, a token Telegram refuses)."""


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type will change; both are handled
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramAdapter(Adapter):
    platform: ClassVar[str] = PLATFORM

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        return bool(settings.value("TELEGRAM_BOT_TOKEN"))

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        settings = runtime.settings
        if runtime.store is None:
            raise TelegramConfigError("the Telegram adapter needs the shared store")
        self.store: PlatformStore = runtime.store
        self._tokens: dict[str, str] = {}  # long button commands' tokens, made by `prepare`
        self.token = settings.secret("TELEGRAM_BOT_TOKEN")
        api = settings.value("TELEGRAM_API_URL", DEFAULT_API).rstrip("/")
        self.webhook_url = settings.value("TELEGRAM_WEBHOOK_URL")
        self.webhook_secret = settings.secret("TELEGRAM_WEBHOOK_SECRET")
        if self.webhook_url and not self.webhook_secret:
            raise TelegramConfigError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_URL is set"
            )
        # httpx logs every request URL at INFO, and Telegram's URLs carry the token; PTB logs
        # its API URL at DEBUG. The level keeps httpx quiet, the redaction catches the rest.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        quiet_payloads("telegram", "aiohttp.client")
        redact_in_logs(self.token.value, self.webhook_secret.value)
        builder = (
            Application.builder()
            .token(self.token.value)
            .base_url(f"{api}/bot")
            .base_file_url(f"{api}/file/bot")
            .request(AiohttpRequest())
        )
        if self.webhook_url:
            builder = builder.updater(None)
        self.app = builder.build()
        self.app.add_handler(TypeHandler(Update, self._from_poller))
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease_name = (
            "telegram-poller:" + hashlib.sha256(self.token.value.encode()).hexdigest()[:16]
        )
        self.polling = False
        self.started = False
        self._renewer: asyncio.Task[None] | None = None
        if self.webhook_url and runtime.http is not None:
            runtime.http.router.add_post("/telegram/webhook", self.webhook)

    # ---------------------------------------------------------------- life cycle

    async def start(self) -> None:
        try:
            await self.app.initialize()
        except InvalidToken:
            raise TelegramConfigError(
                "Telegram refused TELEGRAM_BOT_TOKEN (check it with @BotFather)"
            ) from None
        await self._set_commands()
        if self.webhook_url:
            await self.app.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.webhook_secret.value,
                allowed_updates=["message", "callback_query"],
            )
        await self.app.start()
        self.started = True
        if not self.webhook_url:
            await self.start_polling()

    async def start_polling(self) -> bool:
        """Poll if no other instance does; either way this instance sends."""
        if not await self.store.acquire_lease(self.lease_name, self.holder, LEASE_SECONDS):
            log.warning("another instance is polling Telegram for this bot; this one only sends")
            return False
        assert self.app.updater is not None
        await self.app.bot.delete_webhook()
        await self.app.updater.start_polling(
            allowed_updates=["message", "callback_query"], poll_interval=0.0, timeout=5
        )
        self.polling = True
        self._renewer = asyncio.create_task(self._renew())
        return True

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            try:
                if not await self.store.acquire_lease(self.lease_name, self.holder, LEASE_SECONDS):
                    log.error("lost the Telegram polling lease; stopping this instance's poller")
                    if self.app.updater is not None:
                        await self.app.updater.stop()
                    self.polling = False
                    return
            except Exception:
                log.exception("could not renew the Telegram polling lease")

    async def stop(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self.polling and self.app.updater is not None:
            await self.app.updater.stop()
            self.polling = False
            await self.store.release_lease(self.lease_name, self.holder)
        if self.started:
            await self.app.stop()
            self.started = False
        await self.app.shutdown()

    async def _set_commands(self) -> None:
        """The command menu in each language, from the registry: one entry per top-level word."""
        registry = self.runtime.dispatcher.registry
        catalog = self.runtime.catalog
        for lang in (*LANGUAGES, None):
            lookup = lang or self.runtime.dispatcher.default_language
            menu: dict[str, str] = {}
            for command in registry:
                word = command.name.split()[0]
                if command.hidden or not COMMAND_NAME.match(word) or word in menu:
                    continue
                key = (
                    command.help_key + ".summary"
                    if " " not in command.name
                    else f"{command.area}.area"
                )
                menu[word] = catalog.get(lookup, key)[:256]
            await self.app.bot.set_my_commands(
                [BotCommand(name, text) for name, text in menu.items()], language_code=lang
            )

    # ---------------------------------------------------------------- incoming

    async def webhook(self, request: web.Request) -> web.Response:
        """The secret header first, then a bounded read, then parsing: junk is a 400."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.value.encode()):
            raise Refused(403, "wrong or missing Telegram webhook secret")
        if not self.started:
            raise Refused(503, "the Telegram adapter is not started yet")
        update = self._parse_update(await read_body(request, BODY_LIMIT))
        await self.handle_update(update)
        return web.Response(status=200)

    def _parse_update(self, raw: bytes) -> Update:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise Refused(400, "update is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise Refused(400, "update is not an object with an integer update_id")
        try:
            return Update.de_json(data, self.app.bot)
        except Exception as exc:  # PTB raises whatever the shape provokes
            raise Refused(400, f"update does not parse ({type(exc).__name__})") from None

    async def _from_poller(self, update: object, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.handle_update(update)

    async def handle_update(self, update: Update) -> None:
        """One update, once: a message or a button press. Never raises."""
        try:
            message = update.message
            if update.callback_query is None and message is not None and not _has_file(message):
                # A message: checked with the sender's lookup, in one round trip, and
                # dropped by the dispatcher if seen (`IncomingMessage.once`).
                await self._message(message, update.update_id, once=(str(update.update_id),))
                return
            if not await self.store.first_time(PLATFORM, str(update.update_id)):
                log.info("Telegram update %s seen before; skipped", update.update_id)
                return
            if update.callback_query is not None:
                await self._button(update.callback_query)
            elif message is not None:  # with a file: not downloaded again for a retry
                await self._message(message, update.update_id)
        except Exception:
            log.exception("Telegram update %s failed", update.update_id)

    def _addressed(self, message: Message) -> str | None:
        """In a group, only what is meant for this bot: /cmd, /cmd@thisbot, @thisbot ..., or a
        reply to one of its messages."""
        text = (message.text or "").strip()
        username = (self.app.bot.username or "").casefold()
        if text.startswith("/"):
            first = text.split(maxsplit=1)[0]
            if "@" in first and first.split("@", 1)[1].casefold() != username:
                return None
            return text
        if username and text.casefold().startswith("@" + username):
            return text[len(username) + 1 :].strip()
        replied = message.reply_to_message
        if (
            replied is not None
            and replied.from_user is not None
            and replied.from_user.id == self.app.bot.id
        ):
            return text
        return None

    async def _message(self, message: Message, update_id: int, once: tuple[str, ...] = ()) -> None:
        user = message.from_user
        sent = message.document or (message.photo[-1] if message.photo else None)
        if user is None or not (message.text or sent):
            return
        group = message.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        if group and sent is not None:
            return  # files are taken only in the private chat: they may be personal
        text = self._addressed(message) if group else (message.text or message.caption or "")
        if text is None:
            return
        files = (await self._download(message),) if sent is not None else ()
        incoming = IncomingMessage(
            sender=Sender(PLATFORM, str(user.id), user.full_name, locale=user.language_code),
            text=text,
            chat_id=str(message.chat.id),
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            event_id=str(update_id),
            files=files,
            once=once,
        )
        outcome = await self.runtime.dispatcher.handle(incoming)
        await self._answer(outcome.replies, outcome.lang, message.chat.id, user.id, group)

    async def _download(self, message: Message) -> IncomingFile:
        """The document or photo of a message, within the size bound."""
        if message.document is not None:
            sent: Document | PhotoSize = message.document
            name = message.document.file_name or "document"
            mime = message.document.mime_type or "application/octet-stream"
        else:
            sent = message.photo[-1]
            name, mime = f"photo-{message.message_id}.jpg", "image/jpeg"
        if (sent.file_size or 0) > MAX_FILE_BYTES:
            return IncomingFile(name, mime, refused=f"over {MAX_FILE_BYTES // 1024 // 1024} MB")
        try:
            found = await self.app.bot.get_file(sent.file_id)
            content = bytes(await found.download_as_bytearray())
        except (TelegramError, OSError) as exc:
            log.warning("Telegram file %s could not be downloaded: %s", name, exc)
            return IncomingFile(name, mime, refused="the download failed")
        if len(content) > MAX_FILE_BYTES:
            return IncomingFile(name, mime, refused=f"over {MAX_FILE_BYTES // 1024 // 1024} MB")
        return IncomingFile(name, mime, content)

    async def _button(self, query: CallbackQuery) -> None:
        data = query.data or ""
        if data.startswith(INLINE_PREFIX):
            command: str | None = data
        elif data.startswith(CALLBACK_PREFIX):
            command = await self.store.command_for(data[len(CALLBACK_PREFIX) :])
        else:
            command = None
        lang = self.runtime.dispatcher.default_language
        if command is None:
            await query.answer(self.runtime.catalog.get(lang, "telegram.button_expired"))
            return
        original = query.message
        chat_id = original.chat.id if original is not None else query.from_user.id
        group = original is not None and original.chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        incoming = IncomingMessage(
            sender=Sender(
                PLATFORM,
                str(query.from_user.id),
                query.from_user.full_name,
                locale=query.from_user.language_code,
            ),
            text=command,
            chat_id=str(chat_id),
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            event_id=f"cb:{query.id}",
        )
        outcome = await self.runtime.dispatcher.handle(incoming)
        first = outcome.replies[0] if outcome.replies else None
        summary = first.plain().split("\n", 1)[0][:180] if first else "✓"
        await query.answer(summary, show_alert=bool(first and first.error))
        if isinstance(original, Message) and not (first and first.error):
            try:
                await self.app.bot.edit_message_text(
                    chat_id=chat_id,
                    message_id=original.message_id,
                    text=f"{original.text_html}\n\n✅ {telegram_html(summary)}",
                    parse_mode=ParseMode.HTML,
                    reply_markup=None,
                )
            except BadRequest:  # too long with the summary, say: at least drop the buttons
                with contextlib.suppress(BadRequest):
                    await self.app.bot.edit_message_reply_markup(
                        chat_id=chat_id, message_id=original.message_id, reply_markup=None
                    )
        await self._answer(outcome.replies, outcome.lang, chat_id, query.from_user.id, group)

    async def _answer(
        self, replies: list[Reply], lang: str, chat_id: int, user_id: int, group: bool
    ) -> None:
        """Send replies where they belong: personal data only in the private chat."""
        for reply in replies:
            target = user_id if group and reply.private else chat_id
            try:
                await self._send(target, reply)
            except Forbidden:
                if target == chat_id:
                    raise
                note = self.runtime.catalog.get(
                    lang, "telegram.start_private_first", bot=self.app.bot.username or ""
                )
                await self._send(chat_id, Reply(text=note, error=True))

    # ---------------------------------------------------------------- outgoing

    async def _send(self, chat_id: int | str, reply: Reply) -> Message:
        """A reply as one message or, when long, several; buttons go on the last one."""
        markup = await keyboard(reply, self._token)
        texts = parts(reply)
        if reply.attachment is not None:
            caption = parts(reply, MAX_CAPTION)
            texts = [] if len(caption) == 1 else texts
            for part in texts:
                await self._send_text(chat_id, part, None)
            upload = InputFile(reply.attachment.content, filename=reply.attachment.filename)
            common: dict[str, Any] = {
                "chat_id": chat_id,
                "caption": caption[0].html if len(caption) == 1 else None,
                "parse_mode": ParseMode.HTML,
                "reply_markup": markup,
            }
            if reply.attachment.inline:  # a chart: shown, not a download
                return await self.app.bot.send_photo(photo=upload, **common)
            return await self.app.bot.send_document(document=upload, **common)
        sent: Message | None = None
        for index, part in enumerate(texts):
            last = index == len(texts) - 1
            sent = await self._send_text(chat_id, part, markup if last else None)
        assert sent is not None
        return sent

    async def _send_text(
        self, chat_id: int | str, part: Part, markup: InlineKeyboardMarkup | None
    ) -> Message:
        try:
            return await self.app.bot.send_message(
                chat_id=chat_id,
                text=part.html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        except BadRequest as exc:
            if not part.text.strip() or not _markup_refused(exc):
                raise
            log.warning("Telegram refused a reply's HTML (%s); sent as plain text", exc.message)
        return await self.app.bot.send_message(
            chat_id=chat_id, text=part.text, reply_markup=markup, disable_web_page_preview=True
        )

    async def prepare(self, reply: Reply) -> None:
        if len(self._tokens) > TOKEN_CACHE:
            self._tokens.clear()
        for choice in reply.choices:
            if not fits_inline(choice.command) and choice.command not in self._tokens:
                self._tokens[choice.command] = await self.store.token_for(choice.command)

    async def _token(self, command: str) -> str:
        """A long command's token: made by `prepare` (no database write while sending), or
        stored now for a reply to a message."""
        return self._tokens.get(command) or await self.store.token_for(command)

    async def send(self, recipient: Recipient, reply: Reply) -> SendResult:
        try:
            message = await self._send(recipient.address or recipient.user_id, reply)
        except RetryAfter as exc:
            return SendResult.retry(_retry_seconds(exc), "Telegram rate limit (429)")
        except Forbidden as exc:
            return SendResult.failed(f"blocked by user: {exc.message}")
        except BadRequest as exc:
            return SendResult.failed(f"rejected by Telegram: {exc.message}")
        except (TimedOut, NetworkError) as exc:
            return SendResult.retry(30, f"network: {exc.message}")
        return SendResult.sent(str(message.message_id))


def _has_file(message: Message) -> bool:
    return message.document is not None or bool(message.photo)
