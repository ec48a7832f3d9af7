"""Fault tests with real processes on PostgreSQL: several schedulers, a sender killed with
SIGKILL in the middle of a fan-out, and a storm of 429s. Bounded in time."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select

from benchmarks.fanout import drop_connections
from bot.app import App
from schedules.deliverer import SENDERS
from storage import identity, outbox
from storage.clock import utcnow
from storage.meetings import service as meetings
from storage.models import Delivery, OutboxMessage
from storage.store import SYSTEM, Actor, Store
from tests.loopback import serve

pytestmark = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
ROOT = Path(__file__).resolve().parent.parent
WORKER = [sys.executable, "-m", "tests.fault_worker"]


class Platform:
    """A fake chat platform on loopback that counts every message it accepts."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: collections.Counter[str] = collections.Counter()
        self.times: list[float] = []
        self.fail_first = fail_first
        self.refused = 0
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.refused < self.fail_first:
            self.refused += 1
            return web.json_response({"ok": False}, status=429, headers={"Retry-After": "1"})
        self.received[body["text"]] += 1
        self.times.append(time.monotonic())
        return web.json_response({"id": sum(self.received.values())})

    async def __aenter__(self) -> Platform:
        app = web.Application()
        app.router.add_post("/send", self.handle)
        self.runner, base = await serve(app)
        self.url = f"{base}/send"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def fan_out(app: App, count: int) -> None:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli"))
        view = await identity.staff_by_no(store, "D2001")
        assert view is not None
        await identity.ensure_identity(store, "fake", "fake-user", view.id)
        await outbox.enqueue_many(
            store,
            [
                outbox.Message(
                    f"fanout:{i}",
                    view.id,
                    "identity.link.done",
                    {"name": f"n{i:04d}", "staff_no": "D2001"},
                )
                for i in range(count)
            ],
            why_key="identity.whoami_footer",
            urgent=True,
        )


async def spawn(
    *args: str, capture: bool = False, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *WORKER,
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stderr=asyncio.subprocess.PIPE if capture else None,
    )


async def statuses(app: App) -> dict[str, int]:
    async with app.database.session() as session:
        return await outbox.counts_by_status(Store(session, SYSTEM))


async def test_a_killed_sender_loses_nothing(any_app: App) -> None:
    await fan_out(any_app, 1000)
    async with Platform() as platform:
        worker = await spawn("send", any_app.settings.database_url, platform.url)
        deadline = time.monotonic() + 60
        while sum(platform.received.values()) < 300 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        at_kill = sum(platform.received.values())
        assert 300 <= at_kill < 1000, "killed in the middle of the fan-out"
        started = time.monotonic()
        restarted = await spawn("send", any_app.settings.database_url, platform.url)
        while len(platform.received) < 1000 and time.monotonic() - started < 60:
            await asyncio.sleep(0.05)
        drained = time.monotonic() - started
        await asyncio.wait_for(restarted.wait(), timeout=120)
    assert await statuses(any_app) == {"sent": 1000}, "every delivery ends sent"
    assert len(platform.received) == 1000, "none lost"
    repeats = sum(n - 1 for n in platform.received.values())
    assert repeats <= SENDERS, f"at most the sends in flight are repeated, got {repeats}"
    assert drained < 20, f"the abandoned work was taken over within the lease, took {drained:.1f} s"


async def test_a_database_blip_loses_no_outcome_and_repeats_nothing(any_app: App) -> None:
    """The database drops every connection twice while a fan-out is being sent: outcomes
    are kept and written when it is back, so nothing that was sent goes out again."""
    await fan_out(any_app, 1000)
    async with Platform() as platform:
        url = any_app.settings.database_url
        worker_url = url + ("&" if "?" in url else "?") + f"application_name={WORKER_NAME}"
        worker = await spawn("send", worker_url, platform.url, capture=True)
        for mark in (300, 600):
            deadline = time.monotonic() + 60
            while sum(platform.received.values()) < mark and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await drop_connections(any_app.settings.database_url, WORKER_NAME)
        started = time.monotonic()
        while len(platform.received) < 1000 and time.monotonic() - started < 60:
            await asyncio.sleep(0.05)
        drained = time.monotonic() - started
        _out, err = await asyncio.wait_for(worker.communicate(), timeout=120)
        assert worker.returncode == 0
    log = err.decode()
    assert "Traceback" not in log, log
    assert "database unavailable" in log and "database back" in log, log
    assert await statuses(any_app) == {"sent": 1000}, "every outcome was recorded"
    assert len(platform.received) == 1000, "none lost"
    repeats = sum(n - 1 for n in platform.received.values())
    assert repeats == 0, f"what was sent is not sent again, got {repeats} repeats"
    assert drained < 20, f"drained {drained:.1f} s after the fault"


WORKER_NAME = "unionbot-fault-worker"


async def test_a_429_storm_is_ridden_out(any_app: App) -> None:
    await fan_out(any_app, 200)
    async with Platform(fail_first=150) as platform:
        started = time.monotonic()
        worker = await spawn("send", any_app.settings.database_url, platform.url)
        while len(platform.received) < 200 and time.monotonic() - started < 60:
            await asyncio.sleep(0.05)
        drained = time.monotonic() - started
        await asyncio.wait_for(worker.wait(), timeout=120)
    assert drained < 20, f"drained {drained:.1f} s after the storm began"
    assert platform.refused == 150
    assert await statuses(any_app) == {"sent": 200}
    assert len(platform.received) == 200 and max(platform.received.values()) == 1


async def test_two_scheduler_processes_schedule_each_reminder_once(any_app: App) -> None:
    start = utcnow() + timedelta(hours=20)
    async with any_app.database.session() as session:
        for i in range(3):
            meeting = await meetings.create(
                Store(session, SYSTEM),
                title=f"会议{i}",
                kind="congress",
                starts_at=start + timedelta(minutes=i),
                ends_at=start + timedelta(hours=3),
                place="礼堂",
                agenda="",
                audience="delegates",
                scope="",
            )
            meeting.created_at = start - timedelta(days=30)
    url = any_app.settings.database_url
    first, second = await spawn("tick", url, "20"), await spawn("tick", url, "20")
    await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), timeout=120)
    assert first.returncode == 0 and second.returncode == 0
    async with any_app.database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.reason.like("meeting:%:remind:%"))
        )
        duplicates = await session.scalar(
            select(func.count()).select_from(
                select(Delivery.outbox_id)
                .group_by(Delivery.outbox_id, Delivery.platform, Delivery.platform_user_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    assert count == 3 * 8 * 2 and duplicates == 0


async def test_two_instances_keep_to_one_rate_budget(any_app: App) -> None:
    """The platform's limit is the deployment's: two senders together stay within it."""
    await fan_out(any_app, 400)
    limit = {"UNIONBOT_RATE_FAKE_GLOBAL": "40"}
    url = any_app.settings.database_url
    async with Platform() as platform:
        first = await spawn("send", url, platform.url, "host-a:1", env=limit)
        second = await spawn("send", url, platform.url, "host-b:2", env=limit)
        await asyncio.wait_for(asyncio.gather(first.wait(), second.wait()), timeout=120)
    assert len(platform.received) == 400 and max(platform.received.values()) == 1
    start = platform.times[0] + 2.0  # both are running and have heard of each other
    steady = [t for t in platform.times if t >= start]
    busiest = max((sum(1 for u in steady if t <= u < t + 1.0) for t in steady), default=0)
    assert busiest <= 40 * 1.25, f"{busiest} messages in one second against a budget of 40"
