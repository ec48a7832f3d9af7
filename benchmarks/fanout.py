"""10,000 meeting reminders through a rate-limited fake platform on loopback.

Reports the time to materialise the reminder for 10,000 recipients (target under 2 s
on PostgreSQL), the achieved send rate as a fraction of the platform's limit (target
at least 0.95), the 429s received, duplicates (target 0) and lost messages (target 0).

    python -m benchmarks.fanout --postgres URL [--recipients 10000] [--limit 200]
    python -m benchmarks.fanout --postgres URL --recipients 2000 --fault kill|pg

With `--fault`, a separate sender process does the sending and the fault strikes in the
middle: `kill` sends it SIGKILL and starts another; `pg` drops its database connections
twice (as a PostgreSQL restart does). It prints sent, lost, duplicates and the time to
drain after the fault.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import sys
import time
from argparse import SUPPRESS
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from aiohttp import ClientSession, web
from sqlalchemy import insert, text

from benchmarks.dispatch import drop_schema, postgres_url
from bot.app import build_catalog
from bot.delivery import Recipient, SendResult
from bot.replies import Reply
from schedules.deliverer import Deliverer, Send
from schedules.ratelimit import RateLimiter
from schedules.tick import tick
from storage.clock import utcnow
from storage.db import Database
from storage.meetings import service as meetings
from storage.models import Identity, Staff
from storage.store import SYSTEM, Store

TZ = ZoneInfo("Asia/Shanghai")


class RateLimitedPlatform:
    """Accepts at most `limit` messages in any one-second window; 429 with Retry-After beyond."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.window_start = 0.0
        self.in_window = 0
        self.rejected = 0
        self.received: collections.Counter[str] = collections.Counter()
        self.first = self.last = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        if now - self.window_start >= 1.0:
            self.window_start, self.in_window = now, 0
        if self.in_window >= self.limit:
            self.rejected += 1
            return web.json_response({"ok": False}, status=429, headers={"Retry-After": "1"})
        self.in_window += 1
        body = await request.json()
        self.received[body["who"]] += 1
        self.first = self.first or now
        self.last = now
        return web.json_response({"id": sum(self.received.values())})


def telegram_id(staff_id: int, _staff_no: str) -> str:
    return str(10_000_000 + staff_id)


async def setup(
    url: str,
    recipients: int,
    *,
    platform: str = "telegram",
    user_id: Callable[[int, str], str] = telegram_id,
    languages: tuple[str, ...] = ("zh",),
) -> int:
    """`recipients` delegates linked on `platform` (in turn in each of `languages`) and a
    congress meeting whose 1-day reminder is due now; returns the meeting's id."""
    database = Database(url)
    now = utcnow()
    async with database.session() as session:
        for start in range(0, recipients, 1000):
            rows = [
                {
                    "staff_no": f"B{i:06d}",
                    "name": f"代表{i}",
                    "department": "教务处",
                    "sub_union": "机关分工会",
                    "employment_type": "establishment",
                    "union_member": True,
                    "delegate": True,
                    "delegation": f"第{i % 20}代表团",
                    "language": languages[i % len(languages)],
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(recipients, start + 1000))
            ]
            made = list(
                await session.execute(insert(Staff).returning(Staff.id, Staff.staff_no), rows)
            )
            await session.execute(
                insert(Identity),
                [
                    {
                        "platform": platform,
                        "platform_user_id": user_id(row.id, row.staff_no),
                        "staff_id": row.id,
                        "display_name": "",
                        "linked_at": now,
                    }
                    for row in made
                ],
            )
        meeting = await meetings.create(
            Store(session, SYSTEM),
            title="第五届教代会第三次全体会议",
            kind="congress",
            # The 1-day reminder's time is now: due at once, well inside its grace.
            starts_at=now + timedelta(days=1, seconds=-30),
            ends_at=now + timedelta(days=1, hours=3),
            place="学术报告厅",
            agenda="",
            audience="delegates",
            scope="",
        )
        meeting.created_at = now - timedelta(days=30)
        meeting.reminder_minutes = [24 * 60]
        meeting_id = meeting.id
    await database.dispose()
    return meeting_id


async def run(url: str, recipients: int, limit: int) -> None:
    await setup(url, recipients)
    database = Database(url)
    started = time.perf_counter()
    done = await tick(database, TZ)
    materialise = time.perf_counter() - started
    print(f"materialised {done['reminders']} reminders in {materialise:.2f} s")

    platform, runner, address = await serve_platform(limit)
    counter = [0]  # 429s answered
    async with ClientSession() as http:
        send = make_send(http, address, counter)

        deliverer = fanout_deliverer(database, send, limit)
        idle = 0
        while sum(platform.received.values()) < done["reminders"] and idle < 50:
            sent_now = await deliverer.drain(workers=2, limit=200)
            idle = 0 if sent_now else idle + 1
            if not sent_now:
                await asyncio.sleep(0.1)
    await runner.cleanup()
    await database.dispose()
    sent = sum(platform.received.values())
    duration = max(platform.last - platform.first, 1e-9)
    rate = (sent - 1) / duration if sent > 1 else 0.0
    print(
        f"sent {sent} in {duration:.1f} s: {rate:.1f}/s against a limit of {limit}/s "
        f"= {rate / limit:.3f} of the limit"
    )
    duplicates = sum(n - 1 for n in platform.received.values())
    lost = done["reminders"] - len(platform.received)
    print(f"429s received: {platform.rejected}; duplicates: {duplicates}; lost: {lost}")


WORKER_NAME = "unionbot-fanout-sender"


async def serve_platform(limit: int) -> tuple[RateLimitedPlatform, web.AppRunner, str]:
    """The rate-limited fake platform on loopback, and the address to send to."""
    platform = RateLimitedPlatform(limit)
    app = web.Application()
    app.router.add_post("/send", platform.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return platform, runner, f"http://127.0.0.1:{port}/send"


def fanout_deliverer(
    database: Database, send: Send, limit: int, lease: timedelta | None = None
) -> Deliverer:
    """The deliverer every run uses: Telegram's buckets at the fake platform's limit."""
    limiter = RateLimiter(
        {"UNIONBOT_RATE_TELEGRAM_GLOBAL": str(limit), "UNIONBOT_RATE_TELEGRAM_PER_CHAT": "1"}
    )
    return Deliverer(
        database,
        build_catalog(),
        {"telegram": send},
        "zh",
        default_timezone=TZ,
        quiet_hours="00:00-00:00",
        limiter=limiter,
        **({"lease": lease} if lease is not None else {}),
    )


def make_send(http: ClientSession, address: str, counter: list[int]) -> Send:
    async def send(recipient: Recipient, reply: Reply) -> SendResult:
        async with http.post(address, json={"who": recipient.user_id}) as response:
            if response.status == 429:
                counter[0] += 1
                return SendResult.retry(float(response.headers["Retry-After"]), "429")
            return SendResult.sent(str((await response.json())["id"]))

    return send


async def sender(url: str, address: str, limit: int) -> None:
    """The sending process of a fault run: drains until nothing has been due for 3 s."""
    database = Database(url)
    async with ClientSession() as http:
        deliverer = fanout_deliverer(
            database, make_send(http, address, [0]), limit, lease=timedelta(seconds=5)
        )
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 3:
            if await deliverer.drain(workers=2, limit=200):
                quiet_since = time.monotonic()
            else:
                await asyncio.sleep(0.1)
    await database.dispose()


async def spawn_sender(url: str, address: str, limit: int) -> asyncio.subprocess.Process:
    worker_url = url + ("&" if "?" in url else "?") + f"application_name={WORKER_NAME}"
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.fanout", "--sender", worker_url, address, str(limit)
    )


async def drop_connections(url: str, application: str = WORKER_NAME) -> None:
    """What a PostgreSQL restart or failover does to a client: its connections drop (only
    those of `application`, so whoever strikes keeps its own)."""
    database = Database(url)
    try:
        async with database.session() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": application},
            )
    finally:
        await database.dispose()


async def run_fault(url: str, recipients: int, limit: int, fault: str) -> None:
    await setup(url, recipients)
    database = Database(url)
    done = await tick(database, TZ)
    await database.dispose()
    total = done["reminders"]
    platform, runner, address = await serve_platform(limit)

    async def until(count: int) -> None:
        while sum(platform.received.values()) < count:
            await asyncio.sleep(0.01)

    worker = await spawn_sender(url, address, limit)
    await asyncio.wait_for(until(total // 2), timeout=300)
    if fault == "kill":
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        struck = time.monotonic()
        worker = await spawn_sender(url, address, limit)
    else:
        await drop_connections(url)
        struck = time.monotonic()
        await asyncio.wait_for(until(total * 3 // 4), timeout=300)
        await drop_connections(url)
    deadline = time.monotonic() + 300
    while len(platform.received) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    drained = time.monotonic() - struck
    await asyncio.wait_for(worker.wait(), timeout=300)
    await runner.cleanup()
    sent = sum(platform.received.values())
    duplicates = sum(n - 1 for n in platform.received.values())
    lost = total - len(platform.received)
    print("| fault | sent | lost | duplicates | time to drain after the fault |")
    print("|---|---|---|---|---|")
    print(f"| {fault} | {sent} | {lost} | {duplicates} | {drained:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=200, help="the fake platform's messages/s")
    parser.add_argument("--postgres", default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--fault", choices=["kill", "pg"], help="strike in the middle")
    parser.add_argument("--sender", nargs=3, metavar=("URL", "PLATFORM", "LIMIT"), help=SUPPRESS)
    args = parser.parse_args()
    if args.sender:
        url, address, limit = args.sender
        asyncio.run(sender(url, address, int(limit)))
        return
    if not args.postgres:
        parser.error("give --postgres URL (or set UNIONBOT_TEST_POSTGRES_URL)")
    url, schema = postgres_url(args.postgres)
    try:
        if args.fault:
            asyncio.run(run_fault(url, args.recipients, args.limit, args.fault))
        else:
            asyncio.run(run(url, args.recipients, args.limit))
    finally:
        drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
