"""A congress votes at once: N delegates signed in press "cast" together, through the real
dispatcher, then the vote is closed (the ballots rewritten in random order) and tallied.

    python -m benchmarks.votes [--voters 500,5000] [--postgres URL]

For each size it prints ballots a second and the p50/p99 of a cast (each person's own wait,
the line included), the time to close and to tally. Targets (issue 21): every ballot
counted once, a second press refused; a tally that does not read ballots one by one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update

from benchmarks.dispatch import drop_schema, postgres_url, sqlite_url
from bot.app import build
from bot.config import Settings
from bot.events import ChatKind, IncomingMessage, Sender
from storage.clock import utcnow
from storage.demo import load_demo
from storage.meetings import service as meetings
from storage.models import Attendance, Ballot, Meeting, Staff
from storage.store import Actor, Store
from storage.votes import service as votes
from tests.crowd import add_people


async def measure(url: str, voters: int) -> dict[str, float]:
    app = build(Settings(database_url=url, env={}))
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "bench")), congress=False)
    people = await add_people(app, voters, "console", lambda no: no)
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "bench"))
        await session.execute(update(Staff).where(Staff.staff_no.in_(people)).values(delegate=True))
        start = utcnow() + timedelta(minutes=5)
        meeting = await meetings.create(
            store,
            title="bench",
            kind="congress",
            starts_at=start,
            ends_at=start + timedelta(hours=4),
            place="hall",
            agenda="",
            audience="delegates",
            scope="",
        )
        now = utcnow()
        await session.execute(update(Meeting).where(Meeting.id == meeting.id).values(starts_at=now))
        await session.execute(
            update(Attendance).where(Attendance.meeting_id == meeting.id).values(checked_in_at=now)
        )
        vote = await votes.create(
            store, meeting, kind="resolution", title="bench", scrutineer_nos=["D2002", "D2003"]
        )
        await votes.open_vote(store, vote)
        vote_id = vote.id
    latencies: list[float] = []

    async def press(staff_no: str) -> None:
        started = time.perf_counter()
        outcome = await app.dispatcher.handle(
            IncomingMessage(
                sender=Sender("console", staff_no),
                text=f"/vote cast {vote_id} yes",
                chat_id=staff_no,
                chat_kind=ChatKind.PRIVATE,
                event_id=f"cast-{staff_no}",
            )
        )
        assert not any(reply.error for reply in outcome.replies), outcome.replies[0].plain()
        latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(press(no) for no in people))
    elapsed = time.perf_counter() - began
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "bench"))
        counted = await session.scalar(select(func.count()).where(Ballot.vote_id == vote_id))
        vote = await votes.get(store, vote_id)
        t0 = time.perf_counter()
        await votes.close(store, vote)
        closing = time.perf_counter() - t0
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "bench"))
        t0 = time.perf_counter()
        found = await votes.tally(store, await votes.get(store, vote_id))
        tallying = time.perf_counter() - t0
    await app.close()
    assert counted == voters and found.of(0, "yes") == voters, (counted, found.counts)
    latencies.sort()
    return {
        "per_second": voters / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "close": closing * 1000,
        "tally": tallying * 1000,
    }


def show(name: str, voters: int, row: dict[str, float]) -> None:
    print(
        f"{name:<12}{voters:>7}{row['per_second']:>11.0f}{row['p50']:>9.0f}{row['p99']:>9.0f}"
        f"{row['close']:>10.0f}{row['tally']:>9.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--voters", default="500,5000")
    parser.add_argument("--postgres", default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    print(
        f"{'database':<12}{'voters':>7}{'ballots/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'close ms':>10}{'tally ms':>9}"
    )
    for voters in [int(n) for n in args.voters.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            show("SQLite", voters, asyncio.run(measure(sqlite_url(Path(tmp)), voters)))
        if args.postgres:
            url, schema = postgres_url(args.postgres)
            try:
                show("PostgreSQL", voters, asyncio.run(measure(url, voters)))
            finally:
                drop_schema(args.postgres, schema)


if __name__ == "__main__":
    main()
