"""Many people at once (issue 16): the pools keep their connections and open no more, the
settings size them, and a burst is let in strictly in arrival order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event

from bot.app import build
from bot.config import Settings, load_settings
from bot.events import ChatKind, IncomingMessage, Sender
from storage.gate import FairGate
from tests.conftest import make_settings


async def test_the_gate_lets_a_burst_in_in_arrival_order_and_never_more_than_its_capacity() -> None:
    gate = FairGate(2)
    inside = 0
    most = 0
    order: list[int] = []

    async def one(n: int) -> None:
        nonlocal inside, most
        async with gate:
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0)
            inside -= 1

    async def again_and_again(n: int) -> None:  # the one who just left comes right back
        for _ in range(3):
            await one(n)

    await asyncio.gather(*(again_and_again(n) for n in range(6)))
    assert most == 2
    assert order[:6] == [0, 1, 2, 3, 4, 5], "those who waited first went first"
    assert sorted(order) == sorted(list(range(6)) * 3)


async def test_a_waiter_cancelled_in_line_gives_its_place_to_the_next() -> None:
    gate = FairGate(1)
    await gate.__aenter__()
    first = asyncio.create_task(gate.__aenter__())
    second = asyncio.create_task(gate.__aenter__())
    await asyncio.sleep(0)
    first.cancel()
    await gate.__aexit__()  # the place goes to `second`, not to the cancelled one
    await asyncio.wait_for(second, 1)
    with pytest.raises(asyncio.CancelledError):
        await first
    await gate.__aexit__()
    async with gate:  # and it is free again
        pass


def test_pool_settings_come_from_the_environment_and_are_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("UNIONBOT_DB_POOL_SIZE", "4")
    monkeypatch.setenv("UNIONBOT_DB_POOL_OVERFLOW", "2")
    settings = load_settings(None)
    assert (settings.db_pool_size, settings.db_pool_overflow) == (4, 2)
    assert settings.validate() == []
    wrong = Settings(db_pool_size=0, db_pool_overflow=-1, db_pool_timeout=0)
    problems = " ".join(wrong.validate())
    for name in ("UNIONBOT_DB_POOL_SIZE", "UNIONBOT_DB_POOL_OVERFLOW", "UNIONBOT_DB_POOL_TIMEOUT"):
        assert name in problems


async def test_sixty_four_people_at_once_open_no_connection_beyond_the_pool(db_url: str) -> None:
    from dataclasses import replace

    app = build(replace(make_settings(db_url), db_pool_size=3))
    opened = 0

    def connected(*_args: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(app.database.engine.sync_engine, "connect", connected)
    assert app.database.engine.pool.size() == 3  # type: ignore[attr-defined]
    driver = app.database.driver
    assert driver is None or driver.capacity == 3

    async def whoami(n: int) -> str:
        sender = Sender(platform="console", user_id=f"nobody-{n}")
        message = IncomingMessage(
            sender=sender, text="/whoami", chat_id=sender.user_id, chat_kind=ChatKind.PRIVATE
        )
        outcome = await app.dispatcher.handle(message)
        return outcome.replies[0].text or ""

    try:
        said = await asyncio.gather(*(whoami(n) for n in range(64)))
    finally:
        await app.close()
    assert all("还没有绑定" in text or "not linked" in text for text in said), said[0]
    if driver is not None:
        opened += driver.opened
    pools = 1 if driver is None else 2
    assert opened <= 3 * pools, f"{opened} connections for pools of 3"
