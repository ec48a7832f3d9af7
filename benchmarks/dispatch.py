"""Messages per second and latency of `/whoami` through the real dispatcher.

Each message goes the whole way an adapter's would: parse, identity lookup (one
query with roles), permission check, the handler (one more read: the linked
platforms), render to text. One asyncio loop on one core, messages one after another.

    python -m benchmarks.dispatch [--messages 5000] [--postgres URL]

Target (issue 2): at least 1,000 /whoami per second with p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text

from bot.app import build, link_console
from bot.config import Settings
from bot.events import ChatKind, IncomingMessage, Sender
from storage import migrate
from storage.db import sync_url
from storage.demo import DEMO_ROSTER, load_demo
from storage.store import Actor, Store

WHO = "D2001"


async def measure(url: str, messages: int, warmup: int, concurrency: int) -> dict[str, float]:
    app = build(Settings(database_url=url, env={}))
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "bench")))
    people = [row[0] for row in DEMO_ROSTER][:concurrency] or [WHO]
    for staff_no in people:
        await link_console(app, staff_no)
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

    await run(warmup, record=False)
    cpu0, started = time.process_time(), time.perf_counter()
    await run(messages, record=True)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu0
    await app.close()
    assert errors == 0, f"{errors} error replies"
    latencies.sort()
    return {
        "per_second": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="people chatting at once (each waits for its reply before the next)",
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $UNIONBOT_TEST_POSTGRES_URL; skipped if unset)",
    )
    args = parser.parse_args()
    print(
        f"/whoami through the dispatcher: {args.messages} messages, {args.concurrency} "
        "people at once, one event loop"
    )
    print(f"{'database':<12}{'msg/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/msg':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(
            measure(sqlite_url(Path(tmp)), args.messages, args.warmup, args.concurrency)
        )
        print(
            f"{'SQLite':<12}{result['per_second']:>10.0f}{result['p50_ms']:>10.2f}"
            f"{result['p99_ms']:>10.2f}{result['cpu_ms']:>12.2f}"
        )
    if args.postgres:
        url, schema = postgres_url(args.postgres)
        try:
            result = asyncio.run(measure(url, args.messages, args.warmup, args.concurrency))
        finally:
            drop_schema(args.postgres, schema)
        print(
            f"{'PostgreSQL':<12}{result['per_second']:>10.0f}{result['p50_ms']:>10.2f}"
            f"{result['p99_ms']:>10.2f}{result['cpu_ms']:>12.2f}"
        )


if __name__ == "__main__":
    main()
