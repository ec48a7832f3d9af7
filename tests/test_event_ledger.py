"""The duplicate check every update pays (issue 22): a retry is seen on any instance or
after a restart, and on SQLite the check itself touches no database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select

from storage import events
from storage.db import Database
from storage.models import ProcessedEvent


async def _rows(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0)


async def test_an_event_is_handled_once_under_any_of_its_ids(db_url: str) -> None:
    database = Database(db_url)
    ledger = events.EventLedger(database)
    assert await ledger.first_time("slack", "Ev1", "retry-key-1")
    assert not await ledger.first_time("slack", "Ev1")
    assert not await ledger.first_time("slack", "other", "retry-key-1"), "one id seen is enough"
    assert await ledger.first_time("telegram", "Ev1"), "platforms have their own ids"
    await ledger.close()
    # Another instance, or this one after a restart, knows them too.
    again = events.EventLedger(database)
    assert not await again.first_time("slack", "Ev1")
    assert not await again.first_time("telegram", "Ev1")
    assert await again.first_time("slack", "Ev2")
    await again.close()
    await database.dispose()


async def test_on_postgresql_a_retry_reaching_another_instance_is_seen_at_once(
    db_url: str,
) -> None:
    database = Database(db_url)
    if database.sqlite:
        pytest.skip("on SQLite one process serves the platforms")
    first, second = events.EventLedger(database), events.EventLedger(database)
    results = await asyncio.gather(
        *(ledger.first_time("slack", "Ev9") for ledger in (first, second) * 5)
    )
    assert sorted(results) == [False] * 9 + [True]
    await database.dispose()


async def test_on_sqlite_the_check_runs_no_statement_and_the_keys_are_written_in_one_batch(
    sqlite_url: str,
) -> None:
    database = Database(sqlite_url)
    ledger = events.EventLedger(database)
    assert await ledger.first_time("telegram", "0")  # loads what a previous run handled
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    assert all([await ledger.first_time("telegram", str(n)) for n in range(1, 200)])
    assert not await ledger.first_time("telegram", "7")
    assert statements == [], "nothing asked of the database on the way"
    await asyncio.sleep(events.FLUSH_AFTER * 4)
    assert await _rows(database) == 200, "written behind, soon"
    assert len([s for s in statements if s.lstrip().upper().startswith("INSERT")]) == 1
    await ledger.close()
    await database.dispose()


async def test_beyond_what_memory_keeps_the_table_answers(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "REMEMBERED", 3)
    database = Database(sqlite_url)
    ledger = events.EventLedger(database)
    for n in range(6):
        assert await ledger.first_time("wecom", f"m{n}")
    await ledger.flush()
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", seen)
    assert not await ledger.first_time("wecom", "m0"), "dropped from memory, found in the table"
    assert await ledger.first_time("wecom", "m6")
    assert not await ledger.first_time("wecom", "m7", "m2"), "one id on record is enough"
    assert statements == [], "read on the loop's own connection, not through the ORM"
    await ledger.close()
    restarted = events.EventLedger(database)  # more on record than memory keeps
    assert not await restarted.first_time("wecom", "m1")
    await restarted.close()
    await database.dispose()
