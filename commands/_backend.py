"""The bridge between the framework's dispatcher and the store: one unit of work per message."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeAlias

from bot.context import Context
from bot.dispatcher import Identified
from bot.events import Sender
from bot.forms import FormState
from bot.i18n import LANGUAGES
from bot.permissions import Principal, Role
from bot.timefmt import zone
from storage import identity
from storage.clock import utcnow
from storage.db import Database
from storage.events import EventLedger
from storage.identity import StaffView
from storage.store import Actor, Store

Ctx: TypeAlias = Context[Store]
LOCALES = Path(__file__).parent / "locales"


def principal_for(view: StaffView) -> Principal:
    tz = None
    if view.timezone:
        try:
            tz = zone(view.timezone)
        except ValueError:
            tz = None
    return Principal(
        id=view.id,
        handle=view.staff_no,
        name=view.name,
        roles=frozenset(Role(name, scope) for name, scope in view.roles),
        language=view.language,
        timezone=tz,
        profile={"staff": view},
    )


def today(ctx: Ctx) -> date:
    """Today in the caller's zone: what every date rule (due dates, claim windows) uses."""
    return utcnow().astimezone(ctx.tz).date()


def in_every_language(ctx: Ctx, name: str, key: str) -> dict[str, Any]:
    """A catalogue word for a notice's params, in every language (`name_zh`, `name_en`):
    the notice shows each reader the one in theirs, not the sender's."""
    return {f"{name}_{lang}": ctx.catalog.get(lang, key) for lang in LANGUAGES}


def staff_of(ctx: Ctx) -> StaffView:
    view = ctx.user.profile["staff"]
    assert isinstance(view, StaffView)
    return view


class StoreBackend:
    def __init__(self, database: Database, ledger: EventLedger | None = None) -> None:
        self.database = database
        self.ledger = ledger or EventLedger(database)

    @asynccontextmanager
    async def session(self, sender: Sender) -> AsyncIterator[Store]:
        async with self.database.turn, self.database.lazy_session() as session:
            yield Store(session, Actor(staff_id=None, platform=sender.platform))

    async def identify(
        self, services: Store, sender: Sender, once: tuple[str, ...] = ()
    ) -> Identified:
        view, first = await self.ledger.identify(sender.platform, sender.user_id, *once)
        if view is None:
            return Identified(None, first_time=first)
        services.actor = Actor(staff_id=view.id, platform=sender.platform, label=view.staff_no)
        form = FormState.from_json(view.form_state) if view.form_state else None
        return Identified(principal_for(view), form, first_time=first)

    async def save_form(self, services: Store, sender: Sender, state: FormState | None) -> None:
        await identity.save_form_state(
            services, sender.platform, sender.user_id, state.to_json() if state else None
        )


def catalogue_words(area: str, section: str) -> dict[str, str]:
    """Every language's name of the values in one catalogue table (`[status]` of
    proposals.toml), mapped to the value: what people may type instead of the code."""
    words: dict[str, str] = {}
    for lang in LANGUAGES:
        data = tomllib.loads((LOCALES / lang / f"{area}.toml").read_text(encoding="utf-8"))
        table = data[section]
        words |= {name: value for value, name in table.items() if isinstance(name, str)}
    return words


def size(count: int) -> str:
    """A file size as people read it: 812 B, 45 KB, 3 MB."""
    for unit in ("B", "KB"):
        if count < 1024:
            return f"{count} {unit}"
        count //= 1024
    return f"{count} MB"
