"""A WeCom directory sync of 10,000 members against the fake WeCom server on loopback.

For each way of reading the directory it prints the time to read it and to reconcile it
with the roster, the API calls (target: no call per member where a list call serves), and
the 45009s met under WeCom's documented rate (10,000 calls a minute for one API in one corp:
the fake allows 166 a second). Three runs on each fresh database: the first sync (links
everyone; target under 30 s), the same again (changes nothing), and one after 1% left the
directory (ends their links).

    python -m benchmarks.directory_sync [--postgres URL] [--members 10000]

Ways: `ids` (WECOM_CONTACTS_SECRET: the member id list in pages of 10,000), `departments`
(the app's secret: one member list per department), `mobile` (member details per department,
linked by mobile).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from benchmarks.dispatch import drop_schema, postgres_url, sqlite_url
from bot.adapters.wecom.api import WeComApi
from bot.adapters.wecom.directory import WeComDirectory
from commands import _directory
from storage.clock import utcnow
from storage.db import Database
from storage.models import AuditEntry, Identity, Staff
from storage.store import Actor, Store
from tests.fake_wecom import CONTACTS_SECRET, CORP_ID, SECRET, FakeWeCom

DEPARTMENTS = 50
WECOM_RATE = 10_000 // 60  # calls a second: WeCom's 10,000 a minute for one API


def members(count: int) -> dict[str, dict[str, object]]:
    """`count` WeCom members: 99% on the roster, 1% not (their ids start with X)."""
    out: dict[str, dict[str, object]] = {}
    for i in range(count):
        uid = f"M{i:06d}" if i % 100 else f"X{i:06d}"
        out[uid] = {
            "name": f"成员{i}",
            "department": [2 + i % DEPARTMENTS],
            "mobile": f"+86 139-{i:08d}",
            "email": f"m{i}@bench.edu.cn",
        }
    return out


async def setup(url: str, count: int) -> None:
    """A roster of `count` staff (every M-member, and 1% who are not in WeCom)."""
    database = Database(url)
    now = utcnow()
    async with database.session() as session:
        for start in range(0, count, 1000):
            await session.execute(
                insert(Staff),
                [
                    {
                        "staff_no": f"M{i:06d}" if i % 100 else f"N{i:06d}",
                        "name": f"教职工{i}",
                        "department": "教务处",
                        "sub_union": "机关分工会",
                        "employment_type": "establishment",
                        "union_member": True,
                        "delegate": i % 10 == 0,
                        "phone": f"139{i:08d}",
                        "email": f"M{i}@bench.edu.cn" if i % 100 else f"n{i}@bench.edu.cn",
                        "language": "zh",
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(count, start + 1000))
                ],
            )
    await database.dispose()


async def one_sync(database: Database, directory: WeComDirectory) -> dict[str, float]:
    started = time.perf_counter()
    listing = await directory.listing()
    read = time.perf_counter() - started
    async with database.session() as session:
        report = await _directory.apply(
            Store(session, Actor(None, "cli", "bench")), directory, listing, force=True
        )
    total = time.perf_counter() - started
    return {
        "read_s": read,
        "reconcile_s": total - read,
        "total_s": total,
        "calls": listing.calls,
        "linked": len(report.linked),
        "already": report.already,
        "ended": len(report.ended),
    }


async def run(url: str, count: int, way: str) -> list[dict[str, Any]]:
    await setup(url, count)
    fake = FakeWeCom(members=members(count), rate_per_second=WECOM_RATE)
    await fake.start()
    app_api = WeComApi(fake.url, CORP_ID, SECRET)
    contacts = WeComApi(fake.url, CORP_ID, CONTACTS_SECRET) if way == "ids" else None
    link_by = "mobile" if way == "mobile" else "staff_no"
    directory = WeComDirectory(app_api, link_by, contacts)
    database = Database(url)
    rows: list[dict[str, Any]] = []
    try:
        for step in ("first", "again", "1% left"):
            if step == "1% left":
                for uid in list(fake.members)[1:count:100]:
                    del fake.members[uid]
            figures = await one_sync(database, directory)
            figures["45009"] = fake.rate_limited
            rows.append({"step": step, **figures})
        async with database.session() as session:
            linked = await session.scalar(select(func.count()).select_from(Identity))
            audited = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.in_(["identity.link", "identity.unlink"]))
            )
        print(f"    links now {linked}, link and unlink audit entries {audited}", file=sys.stderr)
    finally:
        await database.dispose()
        await app_api.close()
        if contacts is not None:
            await contacts.close()
        await fake.stop()
    return rows


def show(backend: str, way: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(
            f"{backend:<10} {way:<11} {row['step']:<8} read {row['read_s']:6.2f} s  "
            f"reconcile {row['reconcile_s']:6.2f} s  total {row['total_s']:6.2f} s  "
            f"calls {int(row['calls']):>3}  45009 {int(row['45009'])}  "
            f"linked {int(row['linked'])}  already {int(row['already'])}  "
            f"ended {int(row['ended'])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument(
        "--way", choices=["ids", "departments", "mobile"], action="append", default=None
    )
    parser.add_argument(
        "--postgres",
        default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"),
        help="PostgreSQL URL (default: $UNIONBOT_TEST_POSTGRES_URL; skipped if unset)",
    )
    args = parser.parse_args()
    ways = args.way or ["ids", "departments", "mobile"]
    for way in ways:
        with tempfile.TemporaryDirectory() as tmp:
            show("sqlite", way, asyncio.run(run(sqlite_url(Path(tmp)), args.members, way)))
        if args.postgres:
            url, schema = postgres_url(args.postgres)
            try:
                show("postgresql", way, asyncio.run(run(url, args.members, way)))
            finally:
                drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
