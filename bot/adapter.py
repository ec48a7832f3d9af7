"""The adapter contract, and finding adapters through the `unionbot.adapters` entry points.

An adapter turns its platform's updates into `IncomingMessage`s for the
dispatcher, renders `Reply` objects back, and sends what the delivery engine
hands it. A third party ships one as its own package by declaring an entry point
in that group; the built-in ones register the same way.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Settings
    from bot.delivery import Recipient, SendResult
    from bot.directory import Directory
    from bot.dispatcher import Dispatcher
    from bot.i18n import Catalog
    from bot.replies import Reply

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "unionbot.adapters"


class AdapterConfigError(RuntimeError):
    """An adapter is configured but cannot work; the message says what to fix. The bot stops."""


class PlatformStore(Protocol):
    """What adapters need from the shared store, so that several instances agree.

    The composition root implements it on the application's database; adapters
    never see the store itself.
    """

    async def first_time(self, platform: str, *event_ids: str) -> bool:
        """True the first time any instance sees this event under any of its ids (a retry
        or a replay, under one id already seen: False)."""

    async def token_for(self, command: str) -> str:
        """A short key for a button's command (Telegram's callback_data holds 64 bytes)."""

    async def command_for(self, token: str) -> str | None: ...

    async def acquire_lease(self, name: str, holder: str, seconds: float) -> bool:
        """Take or renew a named lease; False while another holder's is running."""

    async def release_lease(self, name: str, holder: str) -> None: ...

    async def link_by(
        self, platform: str, user_id: str, field: str, value: str, display_name: str
    ) -> bool:
        """Link a platform account by what the platform vouches for: `field` is "email" (a
        verified email), "mobile" or "staff_no" (an account id that is the staff number),
        matched against the roster; True if linked."""


@dataclass
class Runtime:
    """What every adapter is given: settings, the dispatcher, the catalogue, the HTTP app,
    and the shared store's platform services."""

    settings: Settings
    dispatcher: Dispatcher[Any]
    catalog: Catalog
    http: web.Application | None = None
    store: PlatformStore | None = None


class Adapter(ABC):
    platform: ClassVar[str]
    # The most recipients one `send_many` call takes (WeCom's `touser`: 1,000); 1 where
    # every message is sent to one person.
    batch_size: ClassVar[int] = 1

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @classmethod
    @abstractmethod
    def is_configured(cls, settings: Settings) -> bool:
        """True when the settings name this platform (its token is set, say)."""

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def send(self, recipient: Recipient, reply: Reply) -> SendResult:
        """Send a message the bot sends on its own (a notification, a reminder)."""

    async def send_many(self, recipients: list[Recipient], reply: Reply) -> list[SendResult]:
        """The same message to many people (a congress-wide notice): one result per
        recipient, in their order. Platforms with `batch_size` > 1 send it in one call and
        tell from the platform's answer who got it; the default sends one by one."""
        return [await self.send(recipient, reply) for recipient in recipients]

    def directory(self) -> Directory | None:
        """The platform's member directory, where the bot may write to people who never
        wrote to it (WeCom); None elsewhere."""
        return None

    async def prepare(self, reply: Reply) -> None:
        """Write what sending `reply` needs in the shared store (Telegram's tokens for long
        button commands) before it is sent, so `send` itself touches no database: a
        database blip then cannot fail a send that the platform accepted. Most platforms
        need nothing."""
        return None


def discover() -> dict[str, type[Adapter]]:
    """Every installed adapter class by platform name; a broken plug-in is logged, not fatal."""
    found: dict[str, type[Adapter]] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
        except Exception:
            log.exception("adapter plug-in %s could not be loaded", entry.value)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Adapter)):
            log.error("entry point %s is not an Adapter subclass", entry.value)
            continue
        found[entry.name] = cls
    return found
