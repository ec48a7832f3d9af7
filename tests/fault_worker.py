"""A separate process for the fault tests: ticks the scheduler, or sends deliveries to a
fake platform over HTTP until nothing is left. Killed with SIGKILL by the tests."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from zoneinfo import ZoneInfo

import aiohttp

from bot.app import build_catalog
from bot.delivery import Recipient, SendResult
from bot.replies import Reply
from schedules.deliverer import Deliverer
from schedules.ratelimit import RateLimiter
from schedules.tick import tick
from storage.clock import utcnow
from storage.db import Database

PLATFORM = "fake"


async def send_all(url: str, platform_url: str, holder: str | None = None) -> None:
    database = Database(url)
    async with aiohttp.ClientSession() as http:

        async def send(recipient: Recipient, reply: Reply) -> SendResult:
            async with http.post(platform_url, json={"text": reply.text}) as response:
                if response.status == 429:
                    return SendResult.retry(float(response.headers.get("Retry-After", "1")), "429")
                body = await response.json()
                return SendResult.sent(str(body["id"]))

        deliverer = Deliverer(
            database,
            build_catalog(),
            {PLATFORM: send},
            "zh",
            quiet_hours="00:00-00:00",
            lease=timedelta(seconds=3),
            limiter=RateLimiter(os.environ),
            holder=holder,
        )
        idle = 0
        while idle < 40:
            await deliverer.coordinate()
            sent = await deliverer.run_once(limit=50)
            idle = 0 if sent else idle + 1
            await asyncio.sleep(0 if sent else 0.1)
    await database.dispose()


async def tick_many(url: str, count: int) -> None:
    database = Database(url)
    for i in range(count):
        await tick(database, ZoneInfo("Asia/Shanghai"), now=utcnow() + timedelta(seconds=i))
    await database.dispose()


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "send":
        asyncio.run(send_all(url, sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None))
    else:
        asyncio.run(tick_many(url, int(sys.argv[3])))
