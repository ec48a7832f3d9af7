"""From a message to replies: parse, identify, check permission, run, render errors.

One dispatcher serves every adapter. It never raises: whatever arrives, the person
gets a reply in their language, and anything unexpected is logged with an incident
number that the reply repeats, so an officer can find it.
"""

from __future__ import annotations

import difflib
import logging
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Generic, Protocol, TypeVar

from bot.args import Named
from bot.config import Settings
from bot.context import Context
from bot.directory import Directory
from bot.errors import ArgumentError, UserError
from bot.events import IncomingMessage, Sender
from bot.forms import CANCEL_WORDS, Form, FormEngine, FormState, StartForm, validate_all
from bot.i18n import DEFAULT_LANGUAGE, Catalog, normalize_language
from bot.parser import bind, command_words
from bot.permissions import PermissionDenied, Principal
from bot.registry import Command, Registry, Result
from bot.replies import Reply

log = logging.getLogger(__name__)

S = TypeVar("S")
E = TypeVar("E", bound=Exception)
ErrorHandler = Callable[[Context[S], E], Reply]
MAX_MESSAGE_LENGTH = 4000


@dataclass(slots=True)
class Identified:
    principal: Principal | None
    form: FormState | None = None
    first_time: bool = True  # False: the message's `once` ids were seen before


class Backend(Protocol[S]):
    """What the dispatcher needs from the application's store, per message."""

    def session(self, sender: Sender) -> AbstractAsyncContextManager[S]:
        """A unit of work: commits when the block ends normally, rolls back on an exception."""

    async def identify(self, services: S, sender: Sender, once: tuple[str, ...] = ()) -> Identified:
        """Who wrote, and (given the event's `once` ids) whether the event is new."""

    async def save_form(self, services: S, sender: Sender, state: FormState | None) -> None: ...


@dataclass(slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # Set when a handler opened a form and the adapter shows forms itself (a Slack modal).
    form: Form | None = None
    form_start: StartForm | None = None
    lang: str = DEFAULT_LANGUAGE
    # A whole form submitted at once: what is wrong with each field, by field name.
    field_errors: dict[str, str] = field(default_factory=dict)


class Dispatcher(Generic[S]):
    def __init__(
        self,
        registry: Registry,
        catalog: Catalog,
        backend: Backend[S],
        settings: Settings,
    ) -> None:
        self.registry = registry
        self.catalog = catalog
        self.backend = backend
        self.settings = settings
        self.default_language = normalize_language(settings.language) or DEFAULT_LANGUAGE
        self.default_timezone: tzinfo = settings.tz
        self._error_handlers: list[tuple[type[Exception], ErrorHandler[S, Exception]]] = []
        self.forms: FormEngine[S] = FormEngine(registry.form, catalog, backend.save_form)
        # The member directories of the platforms that have one (WeCom), by platform: set
        # by the composition root once adapters are configured.
        self.directories: dict[str, Directory] = {}

    # ---------------------------------------------------------------- errors

    def add_error_handler(self, kind: type[E], handler: ErrorHandler[S, E]) -> None:
        """Register, once, how errors of `kind` become a reply (as PTB's add_error_handler
        and bolt's @app.error): the application's own refusals are translated here, so no
        handler needs a decorator and none can forget one. The most specific kind wins."""
        self._error_handlers.append((kind, handler))  # type: ignore[arg-type]
        self._error_handlers.sort(key=lambda entry: -len(entry[0].__mro__))

    def _refusal(self, ctx: Context[S], exc: Exception) -> Reply | None:
        """The reply for an error a person can act on; None for a real fault."""
        if isinstance(exc, UserError):
            return self._user_error(ctx, exc)
        if isinstance(exc, PermissionDenied):
            return self._denied(ctx, exc.needed, exc.scope)
        for kind, handler in self._error_handlers:
            if isinstance(exc, kind):
                reply = handler(ctx, exc)
                log.info("refused (%s) for %s", type(exc).__name__, _who(ctx))
                return reply
        return None

    async def _guarded(
        self,
        message: IncomingMessage,
        lang: str,
        what: str,
        work: Callable[[Context[S], Identified], Awaitable[Outcome]],
    ) -> Outcome:
        """One unit of work around `work`: refusals become replies (and what was written
        before them is kept), anything else an incident number the reply repeats."""
        try:
            async with self.backend.session(message.sender) as services:
                identified = await self.backend.identify(services, message.sender, message.once)
                if not identified.first_time:
                    log.info("%s event %s seen before; skipped", message.platform, message.event_id)
                    return Outcome(lang=lang)
                ctx = self._context(message, identified.principal, services)
                try:
                    outcome = await work(ctx, identified)
                except Exception as exc:
                    reply = self._refusal(ctx, exc)
                    if reply is None:
                        raise
                    outcome = Outcome([reply])
                outcome.lang = ctx.lang
                return outcome
        except Exception:
            incident = secrets.token_hex(4)
            log.exception(
                "incident %s while handling %s from %s", incident, what, message.sender.platform
            )
            text = self.catalog.get(lang, "bot.internal_error", incident=incident)
            return Outcome([Reply(text=text, error=True)], lang=lang)

    # ---------------------------------------------------------------- entry points

    def _language(self, message: IncomingMessage) -> str:
        return (
            message.language or normalize_language(message.sender.locale) or self.default_language
        )

    def _too_long(self, lang: str) -> Reply:
        text = self.catalog.get(lang, "bot.too_long", max=MAX_MESSAGE_LENGTH)
        return Reply(text=text, error=True)

    async def handle(self, message: IncomingMessage, *, modal_forms: bool = False) -> Outcome:
        """Answer one message; with `modal_forms` a form is returned, not asked step by step."""
        lang = self._language(message)
        too_long = len(message.text) > MAX_MESSAGE_LENGTH
        if too_long and not message.once:  # refused before any database work
            return Outcome([self._too_long(lang)], lang=lang)

        async def work(ctx: Context[S], identified: Identified) -> Outcome:
            if too_long:  # with `once`: after the duplicate check, so answered once
                return Outcome([self._too_long(ctx.lang)])
            return await self._route(ctx, identified, modal_forms)

        return await self._guarded(message, lang, repr(message.text[:200]), work)

    async def submit_form(
        self,
        message: IncomingMessage,
        form_name: str,
        raw: dict[str, str],
        form_context: dict[str, Any],
    ) -> tuple[Outcome, dict[str, str]]:
        """A whole form at once (a Slack modal): replies, or per-field error texts."""

        async def work(ctx: Context[S], identified: Identified) -> Outcome:
            form = self.registry.form(form_name)
            if form is None or identified.principal is None:
                return Outcome([Reply(text=ctx.t("bot.form.gone"), error=True)])
            if not form.permission.allows(ctx.principal):
                return Outcome([self._denied(ctx, form.permission.describe())])
            values, errors = validate_all(form, raw, self.catalog)
            if errors:
                texts = {name: ctx.t(err.key, **err.params) for name, err in errors.items()}
                return Outcome(field_errors=texts)
            result = await form.on_submit(ctx, values, form_context)
            return await self._outcome(ctx, result, modal_forms=True)

        outcome = await self._guarded(message, self._language(message), f"form {form_name}", work)
        return outcome, outcome.field_errors

    # ---------------------------------------------------------------- routing

    def _context(
        self, message: IncomingMessage, principal: Principal | None, services: S
    ) -> Context[S]:
        lang = (
            message.language
            or (principal.language if principal else None)
            or normalize_language(message.sender.locale)
            or self.default_language
        )
        tz = (principal.timezone if principal else None) or self.default_timezone
        return Context(
            message=message,
            principal=principal,
            services=services,
            lang=lang,
            tz=tz,
            catalog=self.catalog,
            registry=self.registry,
            settings=self.settings,
            directories=self.directories,
        )

    async def _route(self, ctx: Context[S], identified: Identified, modal_forms: bool) -> Outcome:
        text = ctx.message.text.strip()
        state = identified.form
        sent_files = bool(ctx.message.files) and not text
        if state is not None and ctx.principal is not None and not ctx.message.in_group:
            if sent_files:  # files sent while a form is open: attach them, the form waits
                return await self._command(ctx, modal_forms)
            is_command = text.startswith(("/", "／")) and text.casefold() not in CANCEL_WORDS
            if not is_command:
                return await self._form_step(ctx, state)
            outcome = await self._command(ctx, modal_forms)
            if ctx.command is not None and ctx.command.ends_form:
                if outcome.form_start is None:  # a form it opened has replaced this one
                    await self.backend.save_form(ctx.services, ctx.message.sender, None)
                return outcome
            form = self.registry.form(state.form)
            if form is not None and outcome.form_start is None and not _opened_form(outcome):
                outcome.replies.append(
                    Reply(text=ctx.t("bot.form.still_open", form=ctx.t(form.title_key)))
                )
            return outcome
        return await self._command(ctx, modal_forms)

    async def _command(self, ctx: Context[S], modal_forms: bool) -> Outcome:
        words = command_words(ctx.message.text)
        if not words and ctx.message.files and self.registry.files_command is not None:
            words = command_words(self.registry.files_command.name)
        if not words:
            return Outcome([Reply(text=ctx.t("bot.empty"))])
        command, depth = self.registry.match(words)
        if ctx.principal is None and (command is None or not command.permission.public):
            # Before linking, the only thing the bot says is how to link.
            return Outcome([Reply(text=ctx.t("bot.not_linked"), error=True)])
        if command is None:
            return Outcome([self._unknown(ctx, words)])
        if not command.permission.allows(ctx.principal):
            return Outcome([self._denied(ctx, command.permission.describe(), refused=command)])
        ctx.command = command
        try:
            ctx.args = bind(command.args, command.options, words[depth:])
        except ArgumentError as exc:
            alias = self.registry.alias_used(command, words, depth)
            return Outcome([self._argument_error(ctx, command, exc, alias)])
        log.debug("command %s by %s", command.name, ctx.principal.handle if ctx.principal else "-")
        result = await command.handler(ctx)
        outcome = await self._outcome(ctx, result, modal_forms)
        if command.private:
            for reply in outcome.replies:
                reply.private = True
        if ctx.message.in_group and any(reply.private for reply in outcome.replies):
            outcome.replies.insert(0, Reply(text=ctx.t("bot.sent_privately")))
        return outcome

    async def _outcome(self, ctx: Context[S], result: Result, modal_forms: bool) -> Outcome:
        if isinstance(result, StartForm):
            return await self._start_form(ctx, result, modal_forms)
        if isinstance(result, Reply):
            return Outcome([result])
        return Outcome(list(result))

    # ---------------------------------------------------------------- forms

    async def _start_form(self, ctx: Context[S], start: StartForm, modal_forms: bool) -> Outcome:
        form = self.registry.form(start.form)
        if form is None:
            raise LookupError(f"form {start.form!r} is not registered")
        intro = [start.intro] if start.intro else []
        if ctx.message.in_group:
            return Outcome([Reply(text=ctx.t("bot.form.private_only"), error=True)])
        if modal_forms:
            return Outcome(intro, form=form, form_start=start)
        return Outcome([*intro, await self.forms.start(ctx, form, start)], form_start=start)

    async def _form_step(self, ctx: Context[S], state: FormState) -> Outcome:
        step = await self.forms.step(ctx, state)
        if step.done is None:
            return Outcome(step.replies)
        form, values = step.done
        result = await form.on_submit(ctx, values, state.context)
        return await self._outcome(ctx, result, modal_forms=False)

    # ---------------------------------------------------------------- error replies

    def _user_error(self, ctx: Context[S], exc: UserError) -> Reply:
        log.info("user error %s for %s", exc.key, _who(ctx))
        return Reply(text=ctx.t(exc.key, **exc.params), error=True)

    def _role_label(self, ctx: Context[S], role: str) -> str:
        key = f"role.{role}"
        return ctx.t(key) if self.catalog.has(key) else role

    def _denied(
        self,
        ctx: Context[S],
        needed: tuple[str, ...],
        scope: str | None = None,
        refused: Command | None = None,
    ) -> Reply:
        """Say what is wrong: the roles a command needs; or, when the person holds the role
        for another scope (another department's proposal), whose it is and whose they are.
        A refused command that names what such a person likely meant offers it."""
        need = ctx.either([self._role_label(ctx, role) for role in needed])
        roles = ctx.principal.roles if ctx.principal else frozenset()
        if scope is not None:
            mine = sorted(
                (r.name, r.scope) for r in roles if r.name in needed and r.scope is not None
            )
            if mine:
                have = ctx.join(
                    [
                        ctx.t("bot.role_in_scope", role=self._role_label(ctx, name), scope=s)
                        for name, s in mine
                    ]
                )
                return Reply(
                    text=ctx.t("bot.denied_scope", needed=need, scope=scope, held=have),
                    error=True,
                )
        held = sorted({role.name for role in roles})
        have = ctx.join([self._role_label(ctx, role) for role in held]) or "—"
        text = ctx.t("bot.denied", needed=need, held=have)
        meant = self.registry.find(refused.instead) if refused and refused.instead else None
        if meant is not None and meant.permission.allows(ctx.principal):
            summary = ctx.t(meant.help_key + ".summary")
            text += "\n" + ctx.t("bot.denied_instead", usage=meant.usage(), summary=summary)
        return Reply(text=text, error=True)

    def _unknown(self, ctx: Context[S], words: list[str]) -> Reply:
        """A group name alone lists its commands; anything else gets the nearest names."""
        members, depth = self.registry.group(words)
        visible = [c for c in members if not c.hidden and c.permission.allows(ctx.principal)]
        if visible and len(words) == depth:
            items = [f"{c.usage()} — {ctx.t(c.help_key + '.summary')}" for c in visible]
            return Reply(text=ctx.t("bot.group_usage", group=" ".join(words[:depth])), items=items)
        typed = " ".join(words[: self.registry.max_depth])[:60]
        # Only what this person may run, each command once under its nearest name.
        allowed = [c for c in self.registry if not c.hidden and c.permission.allows(ctx.principal)]
        owner = {name: c for c in allowed for name in (c.name, *c.aliases)}
        close: list[str] = []
        for name in difflib.get_close_matches(typed.casefold(), list(owner), n=9, cutoff=0.5):
            if all(owner[name] is not owner[other] for other in close):
                close.append(name)
        close = close[:3]
        if not close and visible:
            close = [c.name for c in visible[:3]]
        if close:
            suggestions = ctx.join(["/" + name for name in close])
            return Reply(
                text=ctx.t("bot.unknown_suggest", typed=typed, suggestions=suggestions), error=True
            )
        return Reply(text=ctx.t("bot.unknown", typed=typed), error=True)

    def _names(self, ctx: Context[S], named: Named) -> str:
        """The choices by their names in the reader's language, with the word to type when
        the name is not the code."""
        shown = []
        for value in named.values:
            name = ctx.t(named.key.format(value=value))
            folded, word = name.casefold(), value.casefold()
            says_it = folded == word or folded.startswith(word + " ")  # "A 已解决" says A
            shown.append(name if says_it else name + ctx.paren(value))
        return ctx.join(shown)

    def _argument_error(
        self, ctx: Context[S], command: Command, exc: ArgumentError, alias: str
    ) -> Reply:
        params = {
            k: self._names(ctx, v) if isinstance(v, Named) else v for k, v in exc.params.items()
        }
        reason = ctx.t(exc.key, **params)
        return Reply(
            text=reason if exc.arg is None else ctx.t("bot.arg.error", arg=exc.arg, reason=reason),
            footer=ctx.t("bot.arg.usage", usage=command.usage(alias)),
            error=True,
        )


def _who(ctx: Context[Any]) -> str:
    return ctx.principal.handle if ctx.principal else "-"


def _opened_form(outcome: Outcome) -> bool:
    return outcome.form is not None
