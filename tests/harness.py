"""Conversation tests: "as D2001 send X, expect a reply that ...".

A `Chat` drives the real dispatcher the way an adapter does. The console driver
here is the reference; adapter tests provide drivers with the same methods, so
the same conversation tests run on every adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from bot.app import App, link_console, make_deliverer
from bot.delivery import Recipient, SendResult
from bot.events import ChatKind, IncomingMessage, Sender
from bot.replies import Reply
from storage import identity, outbox
from storage.db import Database
from storage.store import Actor, Store


@dataclass
class Said:
    """What the bot answered to one message."""

    replies: list[Reply]

    @property
    def text(self) -> str:
        return "\n\n".join(reply.plain() for reply in self.replies)

    @property
    def error(self) -> bool:
        return any(reply.error for reply in self.replies)

    def __contains__(self, needle: str) -> bool:
        return needle in self.text

    def __str__(self) -> str:
        return self.text


class Chat(Protocol):
    async def say(self, who: str, text: str, *, group: bool = False) -> Said: ...

    async def inbox(self, who: str) -> list[Reply]: ...


@dataclass
class ConsoleChat:
    """Drives the dispatcher as the console adapter does: one private chat per person."""

    app: App
    language: str | None = None
    _linked: set[str] = field(default_factory=set)
    _inboxes: dict[str, list[Reply]] = field(default_factory=dict)
    _counter: int = 0

    async def _ensure_linked(self, who: str) -> None:
        if who not in self._linked:
            assert await link_console(self.app, who), f"{who} is not on the roster"
            self._linked.add(who)

    def message(
        self, who: str, text: str, *, group: bool = False, platform: str = "console"
    ) -> IncomingMessage:
        self._counter += 1
        return IncomingMessage(
            sender=Sender(platform=platform, user_id=who, display_name=who),
            text=text,
            chat_id="group-1" if group else who,
            chat_kind=ChatKind.GROUP if group else ChatKind.PRIVATE,
            event_id=f"test-{self._counter}",
            language=self.language,
        )

    async def say(self, who: str, text: str, *, group: bool = False) -> Said:
        await self._ensure_linked(who)
        outcome = await self.app.dispatcher.handle(self.message(who, text, group=group))
        return Said(outcome.replies)

    async def say_unlinked(self, user_id: str, text: str, platform: str = "test") -> Said:
        outcome = await self.app.dispatcher.handle(self.message(user_id, text, platform=platform))
        return Said(outcome.replies)

    async def inbox(self, who: str) -> list[Reply]:
        """Deliver and return the notifications waiting for `who` (each is returned once)."""
        await self._ensure_linked(who)
        box = self._inboxes.setdefault(who, [])

        async def send(recipient: Recipient, reply: Reply) -> SendResult:
            self._inboxes.setdefault(recipient.user_id, []).append(reply)
            return SendResult.sent(f"inbox-{len(box)}")

        deliverer = make_deliverer(self.app, {"console": send})
        await deliverer.run_once(platform_user_id=who, platforms=["console"])
        delivered, self._inboxes[who] = list(self._inboxes.get(who, [])), []
        return delivered


async def queue_notice(
    url: str, platform: str, user_id: str, staff_no: str = "T1001", reason: str = "test:run"
) -> None:
    """Link `staff_no` as `user_id` on `platform` and queue an urgent notice for them, in the
    database of a `unionbot run` a test started."""
    database = Database(url)
    async with database.session() as session:
        store = Store(session, Actor(None, "cli"))
        view = await identity.staff_by_no(store, staff_no)
        assert view is not None
        await identity.ensure_identity(store, platform, user_id, view.id)
        await outbox.enqueue(
            store,
            reason=reason,
            recipient_id=view.id,
            message_key="identity.link.next",
            why_key="identity.whoami_footer",
            urgent=True,
        )
    await database.dispose()


DriverFactory = Callable[[App], AbstractAsyncContextManager[Chat]]


@asynccontextmanager
async def console_driver(app: App) -> AsyncIterator[Chat]:
    yield ConsoleChat(app)
