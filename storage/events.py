"""Handling each platform event once, and keeping button commands behind short keys.

Both tables would grow with every message: the event keys are kept for the platforms'
retry windows and the button keys while a button can still be pressed, and the clock
trims what is older in bounded batches (`forget_old`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from storage import identity_fast_path
from storage.clock import utcnow
from storage.db import Database
from storage.identity import StaffView
from storage.models.events import ChoiceToken, ProcessedEvent
from storage.store import Store
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

# Telegram keeps an update it could not deliver for 24 hours and sends it again; Slack
# retries within 5 minutes and WeCom within seconds: a day covers every platform's retries.
EVENT_MEMORY = timedelta(hours=24)
# A button in a chat can be pressed as long as what it acts on is open (a meeting's
# attend/leave, a form's next step); 30 days covers a congress's notice period, and an
# older button answers that it has expired and which command to type instead.
TOKEN_MEMORY = timedelta(days=30)
TRIM_BATCH = 5000  # rows deleted per statement: a short write, whatever has piled up
TRIM_BATCHES = 20  # at most this many per tick; the next tick goes on
REMEMBERED = 50_000  # keys the SQLite ledger keeps in memory (about 8 MB)
FLUSH_AFTER = 0.05  # seconds a new key waits in memory before it is written (SQLite)
FLUSH_AT = 500  # or as soon as this many wait


def _distinct(event_ids: tuple[str, ...]) -> list[str]:
    """An event's ids as they are kept: each at most 200 characters, each once."""
    return list(dict.fromkeys(event_id[:200] for event_id in event_ids))


def _key(platform: str, event_id: str) -> str:
    return f"{platform}\x1f{event_id[:200]}"


_INSERT_KEYS = (
    "INSERT INTO processed_events (platform, event_id, received_at) "
    "SELECT %(platform)s, k, %(received_at)s FROM unnest(%(keys)s::text[]) AS k "
    "ON CONFLICT (platform, event_id) DO NOTHING RETURNING 1"
)
# The check as a CTE of the sender's lookup: one statement, one round trip. PostgreSQL runs
# a data-modifying CTE to completion whether or not the query reads it; the outer join
# gives one row (with the count) also for a sender nobody linked.
_FIRST_TIME_AND_WHO = (
    "WITH fresh AS (" + _INSERT_KEYS + ") "
    "SELECT (SELECT count(*) FROM fresh), who.* FROM (SELECT 1) AS one "
    "LEFT JOIN ({lookup}) AS who ON true ORDER BY who.linked_id"
)
_WHO_STARTS = 1  # the lookup's columns come after the count


class EventLedger:
    """Which platform events were handled already, asked once per update.

    PostgreSQL, where several instances serve one platform: one autocommit statement
    (`INSERT ... ON CONFLICT DO NOTHING RETURNING`), a single round trip and no
    transaction of its own, so a retry that reaches another instance is still seen; for a
    chat message the same insert rides in the sender's identity lookup (`identify`).

    SQLite, where one process serves the platforms (the database is a local file): the
    ledger is this process's memory, written behind in batches through the one writer,
    so an update costs no database work at all on the common path and a restart still
    knows what was handled. When more keys arrived within the window than memory keeps,
    a key that is not in memory is looked up in the table.
    """

    def __init__(self, database: Database, memory: timedelta = EVENT_MEMORY) -> None:
        self.database = database
        self.memory = memory
        self._recent: OrderedDict[str, float] = OrderedDict()  # key -> monotonic time seen
        self._loaded = False
        self._forgot_at = float("-inf")  # when the newest key dropped from memory was seen
        self._pending: list[dict[str, Any]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._first_time_and_who: str | None = None

    async def first_time(self, platform: str, *event_ids: str) -> bool:
        """True the first time an event is seen under any of its ids; False for a retry or
        a replay (one id already seen is enough)."""
        keys = _distinct(event_ids)
        if not keys:
            return True
        if not self.database.sqlite:
            return await self._insert_now(platform, keys)
        return await self._remember(platform, keys)

    async def identify(
        self, platform: str, user_id: str, *event_ids: str
    ) -> tuple[StaffView | None, bool]:
        """Who sent an event, and whether this is the first time it is seen (`first_time`).

        On PostgreSQL both in one statement: every message pays the two, and as two round
        trips they cost twice the CPU (234 against 120 µs here) and twice the wait. On
        SQLite the check is in memory and the lookup inline, as apart.
        """
        keys = _distinct(event_ids)
        driver = self.database.driver
        if driver is None or not keys:
            first = await self.first_time(platform, *keys)
            return await identity_fast_path.identify(self.database, platform, user_id), first
        if self._first_time_and_who is None:
            lookup = identity_fast_path.lookup_sql(self.database.engine.dialect)
            self._first_time_and_who = _FIRST_TIME_AND_WHO.format(lookup=lookup)
        sql = self._first_time_and_who
        params = {
            "platform": platform,
            "platform_user_id": user_id,
            "received_at": utcnow(),
            "keys": keys,
        }
        async with driver.cursor() as cursor:
            await cursor.execute(sql, params)
            rows = await cursor.fetchall()
        who = [row[_WHO_STARTS:] for row in rows if row[_WHO_STARTS] is not None]
        return identity_fast_path.view_from_driver(who), rows[0][0] == len(keys)

    async def _insert_now(self, platform: str, keys: list[str]) -> bool:
        # On a plain driver connection, written once: through SQLAlchemy the same statement
        # cost 0.7 ms of CPU per update (1.1 ms in all), more than the round trip itself.
        assert self.database.driver is not None
        async with self.database.driver.cursor() as cursor:
            await cursor.execute(
                _INSERT_KEYS, {"platform": platform, "received_at": utcnow(), "keys": keys}
            )
            inserted = await cursor.fetchall()
        return len(inserted) == len(keys)

    async def _remember(self, platform: str, keys: list[str]) -> bool:
        if not self._loaded:
            await self._load()
        now = time.monotonic()
        self._expire(now)
        memory_keys = [_key(platform, k) for k in keys]
        if any(k in self._recent for k in memory_keys):
            return False
        if now - self._forgot_at < self.memory.total_seconds() and await self._in_table(
            platform, keys
        ):
            return False
        received = utcnow()
        for memory_key in memory_keys:
            self._recent[memory_key] = now
        self._pending.extend(
            {"platform": platform, "event_id": k, "received_at": received} for k in keys
        )
        while len(self._recent) > REMEMBERED:
            _, self._forgot_at = self._recent.popitem(last=False)
        if len(self._pending) >= FLUSH_AT:
            await self.flush()
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())
        return True

    def _expire(self, now: float) -> None:
        horizon = now - self.memory.total_seconds()
        while self._recent:
            key, seen = next(iter(self._recent.items()))
            if seen >= horizon:
                break
            del self._recent[key]

    async def _load(self) -> None:
        """What was handled before a restart, newest first, as much as memory keeps."""
        self._loaded = True
        since = utcnow() - self.memory
        async with self.database.session() as session:
            rows = (
                await session.execute(
                    select(
                        ProcessedEvent.platform, ProcessedEvent.event_id, ProcessedEvent.received_at
                    )
                    .where(ProcessedEvent.received_at >= since)
                    .order_by(ProcessedEvent.id.desc())
                    .limit(REMEMBERED + 1)
                )
            ).all()
        now, wall = time.monotonic(), utcnow()
        if len(rows) > REMEMBERED:  # older ones remain only in the table
            self._forgot_at = now
            rows = rows[:REMEMBERED]
        for platform, event_id, received_at in reversed(rows):
            self._recent[_key(platform, event_id)] = now - (wall - received_at).total_seconds()

    async def _in_table(self, platform: str, keys: list[str]) -> bool:
        """Whether a key that memory no longer holds was handled. Once more keys came in
        a day than memory keeps, every new update asks this: through an ORM session (a
        hop to aiosqlite's thread) that halved the replies a second of a crowd (issue 16),
        so it reads on the loop's own connection, as the identity lookup does."""
        marks = ", ".join("?" * len(keys))
        rows = self.database.read_inline(
            f"SELECT 1 FROM processed_events WHERE platform = ? AND event_id IN ({marks}) LIMIT 1",
            [platform, *keys],
        )
        if rows is not None:
            return bool(rows)
        async with self.database.session() as session:
            found = await session.scalar(
                select(ProcessedEvent.id)
                .where(ProcessedEvent.platform == platform, ProcessedEvent.event_id.in_(keys))
                .limit(1)
            )
        return found is not None

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_AFTER)
        await self.flush()

    async def flush(self) -> None:
        """Write the keys waiting in memory; on a database error they wait for the next."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        try:
            async with self.database.session() as session:
                await insert_ignore(
                    session, ProcessedEvent, rows, conflict=("platform", "event_id")
                )
        except Exception as exc:
            log.warning("could not write %d handled event ids yet: %s", len(rows), exc)
            self._pending[:0] = rows[-REMEMBERED:]

    async def close(self) -> None:
        if self._flusher is not None and not self._flusher.done():
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()


async def _trim_batch(database: Database, model: Any, column: Any, before: datetime) -> int:
    """Delete what is older than `before` among the oldest `TRIM_BATCH` rows (ids grow
    with time), so each statement reads a bounded slice whatever the table holds."""
    oldest = select(model.id, column.label("at")).order_by(model.id).limit(TRIM_BATCH).subquery()
    expired = select(oldest.c.id).where(oldest.c.at < before)
    async with database.session() as session:
        result = await session.execute(delete(model).where(model.id.in_(expired)))
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_old(database: Database) -> dict[str, int]:
    """Trim handled-event keys past the retry windows and button keys past their life, in
    short transactions of their own (each holds SQLite's one writer for milliseconds)."""
    now = utcnow()
    removed: dict[str, int] = {}
    for name, model, column, age in (
        ("event_ids", ProcessedEvent, ProcessedEvent.received_at, EVENT_MEMORY),
        ("button_keys", ChoiceToken, ChoiceToken.created_at, TOKEN_MEMORY),
    ):
        removed[name] = 0
        for _ in range(TRIM_BATCHES):
            count = await _trim_batch(database, model, column, now - age)
            removed[name] += count
            if count < TRIM_BATCH:
                break
    return removed


async def token_for(store: Store, command: str) -> str:
    token = secrets.token_urlsafe(12)
    store.session.add(ChoiceToken(token=token, command=command, created_at=utcnow()))
    await store.session.flush()
    return token


async def command_for(store: Store, token: str) -> str | None:
    return await store.session.scalar(select(ChoiceToken.command).where(ChoiceToken.token == token))
