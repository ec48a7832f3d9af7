"""Composing officers' digests over a busy database.

500 officers (school and sub-union officers, the committee, delegation heads,
handlers) over 10,000 proposals and 50 meetings. Reports the time per digest
(target under 20 ms each on SQLite) and the SQL statements per digest, for 50 and
for 500 officers: the statements of one run must not grow with the number of
officers (no query per row), so per digest they fall as officers are added.

    python -m benchmarks.digests [--postgres URL] [--officers 500] [--proposals 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, insert, select

from benchmarks.dispatch import drop_schema, postgres_url, sqlite_url
from storage.benefits.policy import holder
from storage.clock import utcnow
from storage.db import Database
from storage.demo import load_demo
from storage.digests import service
from storage.digests.service import DigestClock
from storage.models import Attendance, Digest, Meeting, OutboxMessage, Proposal, Staff, StaffRole
from storage.store import SYSTEM, Actor, Store

TZ = ZoneInfo("Asia/Shanghai")
SUB_UNIONS = [f"第{i}分工会" for i in range(20)]
DEPARTMENTS = [f"第{i}处" for i in range(30)]
DELEGATIONS = [f"第{i}代表团" for i in range(20)]
STATUSES = ["submitted", "assigned", "assigned", "reopened", "answered", "closed", "accepted"]


async def setup(url: str, officers: int, proposals: int, meetings: int) -> None:
    rng = random.Random(7)
    database = Database(url)
    now = utcnow()
    async with database.session() as session:
        store = Store(session, Actor(None, "cli", "bench"))
        await load_demo(store, congress=False)
        people = [
            {
                "staff_no": f"B{i:06d}",
                "name": f"教工{i}",
                "department": rng.choice(DEPARTMENTS),
                "sub_union": rng.choice(SUB_UNIONS),
                "employment_type": "establishment",
                "union_member": True,
                "delegate": i < 2000,
                "delegation": rng.choice(DELEGATIONS) if i < 2000 else None,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(3000 + officers)
        ]
        await session.execute(insert(Staff), people)
        ids = list(
            await session.scalars(
                select(Staff.id).where(Staff.staff_no.like("B%")).order_by(Staff.id)
            )
        )
        staff, officer_ids = ids[:3000], ids[3000:]
        roles: list[dict[str, Any]] = []
        for n, staff_id in enumerate(officer_ids):
            kind = n % 10
            if kind == 0:
                roles.append({"staff_id": staff_id, "role": "officer", "scope": ""})
            elif kind in (1, 2, 3):
                roles.append({"staff_id": staff_id, "role": "officer", "scope": SUB_UNIONS[n % 20]})
            elif kind == 4:
                roles.append({"staff_id": staff_id, "role": "committee", "scope": ""})
            elif kind in (5, 6):
                roles.append({"staff_id": staff_id, "role": "head", "scope": DELEGATIONS[n % 20]})
            else:
                roles.append(
                    {"staff_id": staff_id, "role": "handler", "scope": DEPARTMENTS[n % 30]}
                )
        await session.execute(insert(StaffRole), roles)
        # Only the benchmark's officers get digests: the demo roster's would only add noise.
        await session.execute(delete(StaffRole).where(StaffRole.staff_id.not_in(officer_ids)))
        rows = []
        today = now.astimezone(TZ).date()
        for n in range(proposals):
            status = STATUSES[n % len(STATUSES)]
            filed = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 90))
            lead = rng.choice(DEPARTMENTS) if status != "submitted" else None
            rows.append(
                {
                    "title": f"提案{n}：关于改进第{n % 97}项工作的建议",
                    "status": status,
                    "category": "welfare",
                    "proposer_id": rng.choice(staff),
                    "lead_department": lead,
                    "supporting_departments": [],
                    "assigned_at": filed + timedelta(days=2) if lead else None,
                    "due_date": today + timedelta(days=rng.randrange(-40, 40)) if lead else None,
                    "created_at": filed,
                    "submitted_at": filed,
                    "updated_at": filed,
                    "rounds": 0,
                    "urges": 0,
                }
            )
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Proposal), rows[start : start + 1000])
        for m in range(meetings):
            starts = now + timedelta(hours=6 + 7 * m)
            meeting = Meeting(
                title=f"会议{m}",
                kind="congress" if m % 5 == 0 else "college",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                place="报告厅",
                agenda="",
                documents=[],
                audience="delegates" if m % 5 == 0 else "sub_union",
                audience_scope="" if m % 5 == 0 else SUB_UNIONS[m % 20],
                reminder_minutes=[],
                status="scheduled",
                checkin_secret=secrets.token_hex(8),
                created_at=now - timedelta(days=3),
                updated_at=now,
            )
            session.add(meeting)
            await session.flush()
            invited = rng.sample(staff[:2000], 150)
            await session.execute(
                insert(Attendance),
                [
                    {
                        "meeting_id": meeting.id,
                        "staff_id": staff_id,
                        "delegate": True,
                        "delegation": DELEGATIONS[i % 20],
                        "answer": rng.choice(["none", "attend", "attend", "leave"]),
                        "leave_status": "pending",
                        "answered_at": now - timedelta(hours=rng.randrange(1, 48)),
                        "extra": {},
                    }
                    for i, staff_id in enumerate(invited)
                ],
            )
    await database.dispose()


async def measure(url: str, officers: int) -> dict[str, float]:
    """One digest run for the first `officers` officers: time and statements."""
    database = Database(url)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    clock = DigestClock(policy=holder(None))
    try:
        async with database.session() as session:
            keep = list(
                await session.scalars(
                    select(StaffRole.staff_id)
                    .distinct()
                    .order_by(StaffRole.staff_id)
                    .limit(officers)
                )
            )
            await session.execute(delete(StaffRole).where(StaffRole.staff_id.not_in(keep)))
            await session.execute(delete(OutboxMessage))
            await session.execute(delete(Digest))
        figures: dict[str, float] = {"officers": officers}
        # A first digest covers everything open; the next day's covers one day.
        for name, moment in (("first", utcnow()), ("daily", utcnow() + timedelta(days=1))):
            statements = 0
            started = time.perf_counter()
            async with database.session() as session:
                queued = await service.due(Store(session, SYSTEM), clock, moment, TZ)
            elapsed = time.perf_counter() - started
            figures |= {
                f"{name}_queued": queued,
                f"{name}_ms": elapsed * 1000 / officers,
                f"{name}_statements": statements,
            }
    finally:
        await database.dispose()
    return figures


async def run(url: str, officers: int, proposals: int, meetings: int) -> list[dict[str, float]]:
    await setup(url, officers, proposals, meetings)
    # The larger run first: the smaller one then drops officers from the same database.
    return [await measure(url, officers), await measure(url, max(1, officers // 10))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL database")
    parser.add_argument("--officers", type=int, default=500)
    parser.add_argument("--proposals", type=int, default=10_000)
    parser.add_argument("--meetings", type=int, default=50)
    args = parser.parse_args()
    targets: list[tuple[str, str, str | None]] = []
    with tempfile.TemporaryDirectory() as directory:
        targets.append(("sqlite", sqlite_url(Path(directory)), None))
        if args.postgres:
            url, schema = postgres_url(args.postgres)
            targets.append(("postgresql", url, schema))
        try:
            for name, url, _schema in targets:
                print(
                    f"setting up {name}: {args.officers} officers, {args.proposals} proposals,"
                    f" {args.meetings} meetings ...",
                    flush=True,
                )
                for f in asyncio.run(run(url, args.officers, args.proposals, args.meetings)):
                    for kind in ("first", "daily"):
                        print(
                            f"{name:10} {kind:5} officers={f['officers']:4.0f}"
                            f" sent={f[kind + '_queued']:4.0f}"
                            f"  {f[kind + '_ms']:6.2f} ms/digest"
                            f"  statements={f[kind + '_statements']:3.0f}"
                            f" ({f[kind + '_statements'] / f['officers']:.3f}/digest)"
                        )
        finally:
            for _name, _url, schema in targets:
                if schema is not None and args.postgres:
                    drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
