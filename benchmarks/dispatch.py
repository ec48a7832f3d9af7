"""Messages per second and latency of `/whoami` through the real dispatcher, one person at
a time and many at once.

Each message goes the whole way an adapter's would: parse, identity lookup (one
query with roles), permission check, the handler (one more read: the linked
platforms), render to text. One asyncio loop on one core; each person waits for their
reply before writing again, as in a chat.

    python -m benchmarks.dispatch [--messages 5000] [--concurrency 1,4,16,64,256] [--postgres URL]

For each number of people writing at once it prints messages/s, p50 and p99, and the
database connections opened after the warm-up (counted by the pools' `connect` events).
Below PostgreSQL, the floor this machine sets: the bare driver's `SELECT 1`, one at a time,
on a connection held as unionbot holds it (psycopg's `AsyncConnection`, cursor kept). A
round trip differs several times between machines (0.12 ms on one machine of this kind,
0.04 ms on another), so compare unionbot with the floor measured beside it, not with a
figure from elsewhere.
Targets (issue 16): at 64 and 256 at least 0.9 of the throughput at 1; p99 at 64 under
30 ms; no connection opened after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, insert, text

from bot.app import build, link_console
from bot.config import Settings
from bot.events import ChatKind, IncomingMessage, Sender
from storage import migrate
from storage.clock import utcnow
from storage.db import sync_url
from storage.demo import load_demo
from storage.models import Staff
from storage.store import Actor, Store


async def add_people(app: Any, count: int) -> list[str]:
    """`count` staff linked on the console, for as many people writing at once."""
    now = utcnow()
    numbers = [f"P{i:05d}" for i in range(count)]
    async with app.database.session() as session:
        await session.execute(
            insert(Staff),
            [
                {
                    "staff_no": no,
                    "name": f"教职工{no}",
                    "department": "教务处",
                    "sub_union": "机关分工会",
                    "employment_type": "establishment",
                    "union_member": True,
                    "language": "zh",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for no in numbers
            ],
        )
    for no in numbers:
        await link_console(app, no)
    return numbers


async def one_level(
    app: Any, people: list[str], messages: int, warmup: int, opened: Callable[[], int]
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0

    async def person(staff_no: str, count: int, record: bool) -> None:
        nonlocal errors
        sender = Sender(platform="console", user_id=staff_no)
        for i in range(count):
            message = IncomingMessage(
                sender=sender,
                text="/whoami",
                chat_id=staff_no,
                chat_kind=ChatKind.PRIVATE,
                event_id=f"{staff_no}-{i}",
            )
            t0 = time.perf_counter()
            outcome = await app.dispatcher.handle(message)
            "".join(reply.plain() for reply in outcome.replies)
            if record:
                latencies.append(time.perf_counter() - t0)
            errors += any(reply.error for reply in outcome.replies)

    async def run(total: int, record: bool) -> None:
        share = max(1, total // len(people))
        await asyncio.gather(*(person(p, share, record) for p in people))

    await run(max(warmup, 2 * len(people)), record=False)  # opens what the pools keep
    before = opened()
    cpu0, started = time.process_time(), time.perf_counter()
    await run(messages, record=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    assert errors == 0, f"{errors} error replies"
    latencies.sort()
    return {
        "people": len(people),
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,
        "opened": opened() - before,
    }


async def measure(
    url: str, messages: int, warmup: int, levels: list[int], pool_size: int = 10
) -> list[dict[str, float]]:
    app = build(Settings(database_url=url, env={}, db_pool_size=pool_size))
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "bench")))
    everyone = await add_people(app, max(levels))
    opened = 0

    def connected(*_args: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(app.database.engine.sync_engine, "connect", connected)
    driver = app.database.driver

    def connections() -> int:
        return opened + (driver.opened if driver is not None else 0)

    results = []
    for level in levels:
        results.append(await one_level(app, everyone[:level], messages, warmup, connections))
    await app.close()
    return results


async def psycopg_floor(url: str, count: int) -> dict[str, float]:
    """One `SELECT 1` round trip at a time on a bare autocommit psycopg connection."""
    import psycopg  # here, as in storage, only where PostgreSQL is used

    from storage.driver_pool import conninfo

    async with await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True) as conn:
        cursor = conn.cursor()

        async def once() -> None:
            await cursor.execute("SELECT 1")
            await cursor.fetchone()

        return await timed(once, count)


async def timed(once: Callable[[], Awaitable[None]], count: int) -> dict[str, float]:
    for _ in range(min(count, 1000)):
        await once()
    cpu0, started = time.process_time(), time.perf_counter()
    for _ in range(count):
        await once()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    return {"per_second": count / elapsed, "cpu_ms": cpu / count * 1000}


def show_floor(name: str, floor: dict[str, float]) -> None:
    print(
        f"{name:<12}{'floor':>7}{floor['per_second']:>10.0f}{'':>8}{'':>9}{'':>9}"
        f"{floor['cpu_ms']:>12.3f}   bare driver, SELECT 1"
    )


def sqlite_url(directory: Path) -> str:
    url = f"sqlite:///{directory / 'bench.db'}"
    migrate.upgrade(url)
    return url


def postgres_url(base: str) -> tuple[str, str]:
    schema = f"ubbench_{secrets.token_hex(3)}"
    engine = create_engine(sync_url(base))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    joiner = "&" if "?" in base else "?"
    url = f"{base}{joiner}options={quote('-csearch_path=' + schema)}"
    migrate.upgrade(url)
    return url, schema


def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(sync_url(base))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def show(name: str, results: list[dict[str, float]]) -> None:
    base = results[0]["per_second"]
    for row in results:
        print(
            f"{name:<12}{int(row['people']):>7}{row['per_second']:>10.0f}"
            f"{row['per_second'] / base:>8.2f}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row['cpu_ms']:>12.3f}{int(row['opened']):>12}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--concurrency",
        default="1,4,16,64,256",
        help="people chatting at once, a comma-separated list (each waits for its reply)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $UNIONBOT_TEST_POSTGRES_URL; skipped if unset)",
    )
    parser.add_argument("--pool-size", type=int, default=10, help="UNIONBOT_DB_POOL_SIZE")
    args = parser.parse_args()
    levels = [int(n) for n in str(args.concurrency).split(",") if n.strip()]
    print(f"/whoami through the dispatcher: {args.messages} messages per level, one event loop")
    print(
        f"{'database':<12}{'people':>7}{'msg/s':>10}{'vs 1':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms/msg':>12}{'new conns':>12}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = sqlite_url(Path(tmp))
        show(
            "SQLite", asyncio.run(measure(url, args.messages, args.warmup, levels, args.pool_size))
        )
    if args.postgres:
        url, schema = postgres_url(args.postgres)
        try:
            show(
                "PostgreSQL",
                asyncio.run(measure(url, args.messages, args.warmup, levels, args.pool_size)),
            )
            show_floor("PostgreSQL", asyncio.run(psycopg_floor(url, args.messages)))
        finally:
            drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
