"""Proposal search and lists at 10,000 and 100,000 proposals (with 10,000 staff), on SQLite
and PostgreSQL, so that a regression shows.

For each size it prints the median and p90 time of a search that matches nothing, one that
matches a few, one of two characters (through the bigram index), a delegate's and an
overseer's `/proposal list` (the first page of 50), one proposal's `show`, the session's
statistics and the export's read of every proposal. Target (issue 16): search and list p50
under 5 ms.

    python -m benchmarks.queries [--sizes 10000,100000] [--postgres URL] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from benchmarks.dispatch import drop_schema, postgres_url, sqlite_url
from storage.clock import utcnow
from storage.db import Database
from storage.models import Proposal, ProposalPerson, Staff
from storage.proposals import queries
from storage.proposals import statistics as stats
from storage.store import Actor, Store

STAFF = 10_000
TZ = ZoneInfo("Asia/Shanghai")
STATUSES = ("accepted", "accepted", "assigned", "replied", "closed", "submitted", "draft")
TOPICS = ("食堂", "停车", "子女入学", "周转房", "体检", "科研经费", "图书馆", "校车")
FILLER = (
    "建议学校进一步完善相关制度，广泛听取教职工意见，明确责任部门和完成时限，"
    "定期公开办理进展，切实解决教职工关心的实际问题。"
)


async def setup(url: str, proposals: int) -> None:
    database = Database(url)
    now = utcnow()
    async with database.session() as session:
        await session.execute(
            insert(Staff),
            [
                {
                    "staff_no": f"S{i:05d}",
                    "name": f"教职工{i}",
                    "department": f"部门{i % 40}",
                    "sub_union": f"分工会{i % 20}",
                    "employment_type": "establishment",
                    "union_member": True,
                    "delegate": i % 20 == 0,
                    "language": "zh",
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(STAFF)
            ],
        )
        ids = list(await session.scalars(select(Staff.id).order_by(Staff.id)))
        delegates = ids[::20]
        for start in range(0, proposals, 5000):
            rows = []
            for i in range(start, min(proposals, start + 5000)):
                topic = TOPICS[i % len(TOPICS)]
                rows.append(
                    {
                        "kind": "proposal",
                        "status": STATUSES[i % len(STATUSES)],
                        "case_no": f"2026-{i:06d}",
                        "title": f"关于改进{topic}管理的提案（第{i}号）",
                        "reasons": f"{topic}方面存在的问题。{FILLER}" * 3,
                        "measures": f"具体措施{i}：{FILLER}" * 2,
                        "category": "welfare",
                        "proposer_id": delegates[i % len(delegates)],
                        "lead_department": f"部门{i % 40}",
                        "supporting_departments": [],
                        "due_date": date(2026, 12, 31) - timedelta(days=i % 90),
                        "rounds": 0,
                        "urges": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            made = list(await session.execute(insert(Proposal).returning(Proposal.id), rows))
            await session.execute(
                insert(ProposalPerson),
                [
                    {
                        "proposal_id": row.id,
                        "staff_id": delegates[(row.id + 1) % len(delegates)],
                        "role": "seconder",
                        "answer": "accepted",
                        "invited_at": now,
                    }
                    for row in made
                ],
            )
    if not database.sqlite:
        # What autovacuum does after a load like this: the GIN indexes' pending entries
        # merged (until then every search reads them one by one), and the statistics the
        # planner estimates a bigram's frequency from.
        async with database.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    await database.dispose()


async def timed(
    database: Database, work: Callable[[Store], Awaitable[Any]], repeat: int
) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        async with database.session() as session:
            store = Store(session, Actor(None, "cli", "bench"))
            started = time.perf_counter()
            await work(store)
            times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1]


async def measure(url: str, proposals: int, repeat: int) -> list[tuple[str, float, float]]:
    print(f"  building {proposals} proposals...", file=sys.stderr)
    await setup(url, proposals)
    database = Database(url)
    async with database.session() as session:
        delegate = await session.scalar(select(Staff.id).where(Staff.staff_no == "S00020"))
    assert delegate is not None
    member = queries.Viewer(staff_id=delegate)
    overseer = queries.Viewer(staff_id=delegate, overseer=True)
    today = date(2026, 12, 1)
    middle = proposals // 2

    def search(viewer: queries.Viewer, *words: str) -> Callable[[Store], Awaitable[Any]]:
        return lambda store: queries.page_for(store, viewer, today=today, words=list(words))

    cases: list[tuple[str, Callable[[Store], Awaitable[Any]]]] = [
        ("search, no match", search(member, "不存在的词语")),
        ("search, a few", search(member, f"第{middle}号")),
        ("search, 2 characters", search(member, "校车")),
        ("search, 2 words", search(overseer, "食堂", "提案")),
        ("list, delegate", lambda store: queries.page_for(store, member, today=today)),
        ("list, overseer", lambda store: queries.page_for(store, overseer, today=today)),
        ("show", lambda store: queries.get_visible(store, member, middle)),
        ("stats", lambda store: stats.stats(store, None, today, TZ)),
        ("export's proposals", lambda store: stats.in_session(store, None)),
    ]
    out = []
    try:
        for name, work in cases:
            slow = name in ("stats", "export's proposals")
            try:
                p50, p90 = await timed(database, work, max(3, repeat // 10) if slow else repeat)
            except Exception as exc:  # a size it cannot do is a figure too
                print(f"  {name} failed: {str(exc).splitlines()[0][:200]}", file=sys.stderr)
                p50 = p90 = float("nan")
            out.append((name, p50, p90))
    finally:
        await database.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgres", help="which databases to run")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $UNIONBOT_TEST_POSTGRES_URL; skipped if unset)",
    )
    args = parser.parse_args()
    print(f"{'database':<12}{'proposals':>10}  {'query':<22}{'p50 ms':>9}{'p90 ms':>9}")
    for size in [int(n) for n in args.sizes.split(",")]:
        if "sqlite" in args.backends:
            with tempfile.TemporaryDirectory() as tmp:
                url = sqlite_url(Path(tmp))
                for name, p50, p90 in asyncio.run(measure(url, size, args.repeat)):
                    print(f"{'SQLite':<12}{size:>10}  {name:<22}{p50:>9.2f}{p90:>9.2f}")
        if args.postgres and "postgres" in args.backends:
            url, schema = postgres_url(args.postgres)
            try:
                for name, p50, p90 in asyncio.run(measure(url, size, args.repeat)):
                    print(f"{'PostgreSQL':<12}{size:>10}  {name:<22}{p50:>9.2f}{p90:>9.2f}")
            finally:
                drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
