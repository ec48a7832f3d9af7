"""Slack through slack-bolt's AsyncApp: DMs, mentions, `/union`, buttons and modals.

HTTP mode serves `POST /slack/events` on the bot's own aiohttp server (bolt checks
the signature and refuses stale or forged requests with 401); Socket Mode connects
out with the app token. Either way each event is handled once across instances
(deduplicated on its event id, or its trigger id, in the shared store), the ack
goes out first, and the work runs after it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapter import Adapter, AdapterConfigError, PlatformStore, Runtime
from bot.adapters.slack.incoming import parse_body, signature_ok, typed_text
from bot.adapters.slack.render import (
    ACTION_PREFIX,
    blocks,
    fallback_text,
    modal,
    submitted_values,
)
from bot.config import Settings
from bot.delivery import Recipient, SendResult
from bot.dispatcher import Outcome
from bot.events import MAX_FILE_BYTES, ChatKind, IncomingFile, IncomingMessage, Sender
from bot.http_edge import MiB, Refused, read_body
from bot.logsafe import quiet_payloads, redact_in_logs
from bot.replies import Reply
from bot.streams import read_at_most

log = logging.getLogger(__name__)


class _SameToken(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN from the environment by itself and, given our client too,
    warns at every start that the client's token wins: it is the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


log.addFilter(_SameToken())
PLATFORM = "slack"
DEFAULT_API = "https://slack.com/api/"
FATAL_AUTH = {"invalid_auth", "account_inactive", "token_revoked", "not_authed", "token_expired"}
GONE_FOR_GOOD = {
    "user_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    *FATAL_AUTH,
}
MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")
# Slack's own payloads stay far below this: a message holds at most 40,000 characters,
# and interactivity payloads repeat the message's blocks, URL-encoded.
BODY_LIMIT = 1 * MiB


class SlackConfigError(AdapterConfigError):
    """The settings cannot work: no mode configured, or a token Slack rejects."""


class SlackAdapter(Adapter):
    platform: ClassVar[str] = PLATFORM

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        return bool(settings.value("SLACK_BOT_TOKEN"))

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime)
        quiet_payloads("slack_sdk", "slack_bolt")
        settings = runtime.settings
        if runtime.store is None:
            raise SlackConfigError("the Slack adapter needs the shared store")
        self.store: PlatformStore = runtime.store
        self.token = settings.secret("SLACK_BOT_TOKEN")
        self.signing_secret = settings.secret("SLACK_SIGNING_SECRET")
        self.app_token = settings.secret("SLACK_APP_TOKEN")
        if not self.signing_secret and not self.app_token:
            raise SlackConfigError(
                "Slack needs SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode)"
            )
        redact_in_logs(self.token.value, self.signing_secret.value, self.app_token.value)
        api = settings.value("SLACK_API_URL", DEFAULT_API)
        # Files are fetched with the bot token: only from Slack's own file host (and the API's,
        # for a fake in tests), never from a URL an event merely names.
        self.file_hosts = {"files.slack.com", urlsplit(api).hostname}
        self.client = AsyncWebClient(
            token=self.token.value,
            base_url=api.rstrip("/") + "/",
            retry_handlers=[AsyncRateLimitErrorRetryHandler(2)],
        )
        # HTTP mode: the signature is checked on the raw bytes in `http_events`, before
        # anything parses them; bolt's own check would come after its parsing.
        self.app = AsyncApp(
            client=self.client,
            signing_secret=self.signing_secret.value or None,
            request_verification_enabled=False,
            logger=log,
        )
        self.bot_user_id = ""
        self.known: dict[str, str | None] = {}  # user id -> Slack locale, once looked up
        self.dm_channels: dict[str, str] = {}
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.socket: Any = None
        self._register()
        if self.signing_secret and runtime.http is not None:
            runtime.http.router.add_post("/slack/events", self.http_events)

    # ---------------------------------------------------------------- life cycle

    async def start(self) -> None:
        # One session for every Web API call: slack_sdk's default opens a new TCP (and TLS)
        # connection per call, which under a burst cost more than the call itself.
        if self.client.session is None or self.client.session.closed:
            self.client.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.client.timeout)
            )
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            await self.client.session.close()
            error = exc.response.get("error")
            if error in FATAL_AUTH:
                raise SlackConfigError(
                    f"Slack rejected SLACK_BOT_TOKEN ({error}); reinstall the app or fix the token"
                ) from None
            raise
        self.bot_user_id = str(auth.get("user_id") or "")
        if self.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self.socket = AsyncSocketModeHandler(self.app, self.app_token.value)
            await self.socket.connect_async()

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close_async()
        await self.settled()
        if self.client.session is not None:
            await self.client.session.close()

    async def settled(self) -> None:
        """Wait until the work started after acks has finished (tests, and a clean stop)."""
        await self.idle.wait()

    # ---------------------------------------------------------------- HTTP mode

    async def http_events(self, request: web.Request) -> web.Response:
        """Authenticate on the raw bytes, then check they parse, and only then hand them to
        bolt (whose request object parses in its constructor and would raise on junk)."""
        raw = await read_body(request, BODY_LIMIT)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not signature_ok(self.signing_secret.value, raw, timestamp, signature):
            raise Refused(401, "bad or stale Slack signature")
        body = parse_body(raw, request.content_type)
        bolt_request = AsyncBoltRequest(
            body=body,
            query=request.query_string,
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        response = await self.app.async_dispatch(bolt_request)
        return web.Response(
            status=response.status,
            body=response.body,
            headers={k: v[0] for k, v in response.headers.items() if v},
        )

    # ---------------------------------------------------------------- listeners

    def _register(self) -> None:
        app = self.app

        @app.middleware
        async def once(
            body: dict[str, Any], context: AsyncBoltContext, next: Any
        ) -> BoltResponse | None:
            keys = _once_keys(body)
            if keys and _is_chat(body):
                # A message: checked with the sender's lookup, in one round trip, and
                # dropped by the dispatcher if seen (`IncomingMessage.once`).
                context["once"] = tuple(keys)
            elif keys and not await self.store.first_time(PLATFORM, *keys):
                log.info(
                    "Slack %s seen before (retry %s); skipped",
                    keys[0],
                    body.get("retry_attempt", "-"),
                )
                return BoltResponse(status=200, body="")
            return await next()  # type: ignore[no-any-return]

        @app.command("/union")
        async def command(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            async with self._working():
                await self._slash(body, respond)

        @app.event("message")
        async def direct_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
            subtype = event.get("subtype")
            if event.get("channel_type") != "im" or event.get("bot_id"):
                return
            if subtype and subtype != "file_share":  # edits, joins, bot messages: not for us
                return
            async with self._working():
                await self._chat(event, group=False, once=context.get("once", ()))

        @app.event("app_mention")
        async def mention(event: dict[str, Any], context: AsyncBoltContext) -> None:
            async with self._working():
                await self._chat(event, group=True, once=context.get("once", ()))

        @app.action(re.compile(f"^{ACTION_PREFIX}"))
        async def button(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            async with self._working():
                await self._button(body, respond)

        @app.view(re.compile("^form:"))
        async def form_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
            await self._form(ack, body)

    def _working(self) -> _Work:
        return _Work(self)

    async def _sender(self, user_id: str) -> Sender:
        """Who this is; on first contact look them up once: locale, and linking by email."""
        if user_id not in self.known:
            locale: str | None = None
            try:
                info = await self.client.users_info(user=user_id, include_locale=True)
                user = info.get("user") or {}
                locale = user.get("locale")
                email = (user.get("profile") or {}).get("email")
                if email:
                    await self.store.link_by(
                        PLATFORM, user_id, "email", email, user.get("real_name") or user_id
                    )
            except SlackApiError as exc:
                log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            self.known[user_id] = locale
        return Sender(PLATFORM, user_id, locale=self.known[user_id])

    async def _dispatch(
        self,
        user_id: str,
        text: str,
        channel: str,
        group: bool,
        key: str,
        modal_forms: bool = False,
        files: tuple[IncomingFile, ...] = (),
        once: tuple[str, ...] = (),
    ) -> Outcome:
        message = IncomingMessage(
            sender=await self._sender(user_id),
            text=text,
            chat_id=channel,
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            event_id=key,
            files=files,
            once=once,
        )
        return await self.runtime.dispatcher.handle(message, modal_forms=modal_forms)

    async def _chat(self, event: dict[str, Any], group: bool, once: tuple[str, ...]) -> None:
        user, channel = str(event.get("user") or ""), str(event.get("channel") or "")
        if not user:
            return
        raw = str(event.get("text") or "")
        text = typed_text(MENTION.sub("", raw, count=1) if group else raw)
        # Files only from the private chat: what people attach may be personal.
        shared = [] if group else list(event.get("files") or [])
        outcome = await self._dispatch(
            user,
            text,
            channel,
            group,
            str(event.get("client_msg_id") or event.get("ts")),
            files=tuple([await self._download(f) for f in shared if isinstance(f, dict)]),
            once=once,
        )
        for reply in outcome.replies:
            if group and reply.private:
                await self.client.chat_postEphemeral(
                    channel=channel, user=user, blocks=blocks(reply), text=fallback_text(reply)
                )
            else:
                await self.client.chat_postMessage(
                    channel=channel,
                    blocks=blocks(reply),
                    text=fallback_text(reply),
                    thread_ts=event.get("thread_ts") if group else None,
                )
            await self._attach(user, reply)

    async def _download(self, shared: dict[str, Any]) -> IncomingFile:
        """A file shared in a DM, fetched with the bot token from Slack's file host only,
        within the size bound and a time limit."""
        name = str(shared.get("name") or "file")[:200]
        mime = str(shared.get("mimetype") or "application/octet-stream")
        url = str(shared.get("url_private_download") or shared.get("url_private") or "")
        if urlsplit(url).hostname not in self.file_hosts:
            return IncomingFile(name, mime, refused="not a Slack file link")
        if int(shared.get("size") or 0) > MAX_FILE_BYTES:
            return IncomingFile(name, mime, refused=f"over {MAX_FILE_BYTES // 1024 // 1024} MB")
        headers = {"Authorization": f"Bearer {self.token.value}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client,
                client.get(url, headers=headers) as response,
            ):
                if response.status != 200:
                    return IncomingFile(name, mime, refused=f"Slack answered {response.status}")
                content = await read_at_most(response.content, MAX_FILE_BYTES)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Slack file %s could not be downloaded: %s", name, type(exc).__name__)
            return IncomingFile(name, mime, refused="the download failed")
        if len(content) > MAX_FILE_BYTES:
            return IncomingFile(name, mime, refused=f"over {MAX_FILE_BYTES // 1024 // 1024} MB")
        return IncomingFile(name, mime, content)

    async def _open_form(self, outcome: Outcome, trigger_id: str, channel: str) -> bool:
        """If the command opened a form, show it as a modal (within the trigger's 3 seconds)."""
        if outcome.form is None or outcome.form_start is None:
            return False
        metadata = {
            "form": outcome.form.name,
            "context": outcome.form_start.context,
            "channel": channel,
        }
        view = modal(
            outcome.form, self.runtime.catalog, outcome.lang, outcome.form_start.initial, metadata
        )
        await self.client.views_open(trigger_id=trigger_id, view=view)
        return True

    async def _slash(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        """`/union ...`: replies are ephemeral, so only the person sees them; forms open a modal."""
        user, channel = str(body.get("user_id")), str(body.get("channel_id"))
        group = False  # every answer to a slash command is ephemeral: only the person sees it
        outcome = await self._dispatch(
            user,
            typed_text(str(body.get("text") or "help")),
            channel,
            group,
            str(body.get("trigger_id")),
            modal_forms=True,
        )
        await self._open_form(outcome, str(body.get("trigger_id")), channel)
        for reply in outcome.replies:
            await respond(
                blocks=blocks(reply), text=fallback_text(reply), response_type="ephemeral"
            )
            await self._attach(user, reply)

    async def _button(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        action = (body.get("actions") or [{}])[0]
        user = str((body.get("user") or {}).get("id"))
        channel = str(
            (body.get("channel") or {}).get("id")
            or (body.get("container") or {}).get("channel_id")
            or ""
        )
        group = not channel.startswith("D")
        outcome = await self._dispatch(
            user,
            str(action.get("value") or ""),
            channel,
            group,
            str(body.get("trigger_id")),
            modal_forms=True,
        )
        if await self._open_form(outcome, str(body.get("trigger_id")), channel):
            return
        replies = outcome.replies or [Reply(text="✓")]
        first, rest = replies[0], replies[1:]
        # The message with the button now shows what came of it, and loses its buttons.
        await respond(replace_original=True, blocks=blocks(first), text=fallback_text(first))
        await self._attach(user, first)
        for reply in rest:
            await respond(
                blocks=blocks(reply),
                text=fallback_text(reply),
                response_type="ephemeral",
                replace_original=False,
            )
            await self._attach(user, reply)

    async def _form(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        user = str((body.get("user") or {}).get("id"))
        channel = str(metadata.get("channel") or "")
        message = IncomingMessage(
            sender=await self._sender(user),
            text="",
            chat_id=channel,
            chat_kind=ChatKind.PRIVATE,
            event_id=str(view.get("id")),
        )
        outcome, errors = await self.runtime.dispatcher.submit_form(
            message,
            str(metadata.get("form")),
            submitted_values(view),
            dict(metadata.get("context") or {}),
        )
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        async with self._working():
            target = await self._dm(user)
            for reply in outcome.replies:
                await self.client.chat_postMessage(
                    channel=target, blocks=blocks(reply), text=fallback_text(reply)
                )
                await self._attach(user, reply)

    # ---------------------------------------------------------------- outgoing

    async def _dm(self, user_id: str) -> str:
        if user_id not in self.dm_channels:
            opened = await self.client.conversations_open(users=user_id)
            self.dm_channels[user_id] = str((opened.get("channel") or {}).get("id"))
        return self.dm_channels[user_id]

    async def _attach(self, user_id: str, reply: Reply, channel: str | None = None) -> None:
        """A reply's file (a chart, an evidence file), uploaded to the person's DM only:
        what is attached may be personal, so it never goes to a group."""
        if reply.attachment is None:
            return
        await self.client.files_upload_v2(
            channel=channel or await self._dm(user_id),
            content=reply.attachment.content,
            filename=reply.attachment.filename,
            title=reply.attachment.filename,
        )

    async def send(self, recipient: Recipient, reply: Reply) -> SendResult:
        """A DM from the delivery engine; 429s and errors become the engine's outcomes."""
        try:
            channel = recipient.address or await self._dm(recipient.user_id)
            sent = await self.client.chat_postMessage(
                channel=channel, blocks=blocks(reply), text=fallback_text(reply)
            )
            await self._attach(recipient.user_id, reply, channel)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if exc.response.status_code == 429:
                after = float(exc.response.headers.get("Retry-After", "30"))
                return SendResult.retry(after, "Slack rate limit (429)")
            if error in FATAL_AUTH:
                log.critical("Slack rejected the bot token (%s); deliveries stop", error)
            if error in GONE_FOR_GOOD:
                return SendResult.failed(f"Slack: {error}")
            return SendResult.retry(60, f"Slack: {error}")
        except (TimeoutError, OSError) as exc:
            return SendResult.retry(30, f"network: {exc}")
        return SendResult.sent(str(sent.get("ts")))


def _once_keys(body: dict[str, Any]) -> list[str]:
    """Every id under which this request's event may come again, checked in one insert.

    Slack may deliver one message under a new event_id (a retry after a timeout, or a
    redelivery on its side): a message is also known by (channel, ts) and client_msg_id.
    The event type is part of those keys, since one typed mention arrives both as a channel
    `message` (ignored) and as an `app_mention` with the same ts and client_msg_id.
    """
    first = body.get("event_id") or body.get("trigger_id")
    keys = [str(first)] if first else []
    event = _chat_event(body)
    if event is not None:
        kind = event["type"]
        if event.get("ts"):
            keys.append(f"msg:{kind}:{event.get('channel')}:{event['ts']}")
        if event.get("client_msg_id"):
            keys.append(f"cmid:{kind}:{event['client_msg_id']}")
    return keys


def _chat_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """The message or mention a request carries, if it carries one."""
    event = body.get("event") if body.get("type") == "event_callback" else None
    if isinstance(event, dict) and event.get("type") in ("message", "app_mention"):
        return event
    return None


def _is_chat(body: dict[str, Any]) -> bool:
    """A message or a mention without files: it goes to the dispatcher as it is (one with
    files is checked first, so that a retry's files are not downloaded again)."""
    event = _chat_event(body)
    return event is not None and not event.get("files")


class _Work:
    """Counts the work running after acks, so `settled()` can wait for it."""

    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter

    async def __aenter__(self) -> None:
        self.adapter.in_flight += 1
        self.adapter.idle.clear()

    async def __aexit__(self, *exc: object) -> None:
        self.adapter.in_flight -= 1
        if self.adapter.in_flight == 0:
            self.adapter.idle.set()
