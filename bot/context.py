"""What a handler gets: the message, the person, their language and zone, and the services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.config import Settings
from bot.i18n import Catalog
from bot.timefmt import format_date, format_datetime

if TYPE_CHECKING:
    from bot.directory import Directory
    from bot.events import IncomingMessage
    from bot.permissions import Principal
    from bot.registry import Command, Registry

S = TypeVar("S")


@dataclass
class Context(Generic[S]):
    message: IncomingMessage
    principal: Principal | None
    services: S
    lang: str
    tz: tzinfo
    catalog: Catalog
    registry: Registry
    settings: Settings
    command: Command | None = None
    args: dict[str, Any] = field(default_factory=dict)
    directories: Mapping[str, Directory] = field(default_factory=dict)

    def t(self, key: str, **params: Any) -> str:
        return self.catalog.get(self.lang, key, **params)

    @property
    def user(self) -> Principal:
        """The linked person; only called by commands that require linking."""
        assert self.principal is not None, "command declared PUBLIC but used ctx.user"
        return self.principal

    def platform_name(self, platform: str) -> str:
        return self.catalog.platform_name(self.lang, platform)

    def join(self, items: list[str]) -> str:
        """A list in the reader's punctuation: 、 in Chinese, commas in English."""
        return ("、" if self.lang == "zh" else ", ").join(items)

    def sentences(self, *parts: str) -> str:
        """Sentences one after another: Chinese runs them on after its 。, English puts a
        space between them."""
        return ("" if self.lang == "zh" else " ").join(part for part in parts if part)

    def either(self, items: list[str]) -> str:
        """Alternatives: 甲、乙或丙 in Chinese, "a, b or c" in English."""
        if len(items) < 2:
            return "".join(items)
        return self.join(items[:-1]) + ("或" if self.lang == "zh" else " or ") + items[-1]

    def paren(self, text: str) -> str:
        return f"（{text}）" if self.lang == "zh" else f" ({text})"

    def when(self, moment: datetime | None) -> str:
        return format_datetime(moment, self.tz, self.lang) if moment else "—"

    def day(self, value: date | None) -> str:
        return format_date(value, self.lang) if value else "—"
