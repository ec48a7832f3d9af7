"""The identity lookup every message pays for, run beside the ORM rather than through it.

Each message starts with one question: who is this chat account on the roster, with which
roles, platforms and open form? `storage.identity.lookup` answers it through the ORM. This
module asks the same query (`storage.identity.LOOKUP`, compiled once per dialect) on the
driver's own connection, outside any transaction, and converts the few column types the
ORM would have converted. On the benchmark machine that took `/whoami` from about 600 to
1,400 messages a second on SQLite (issue 2, `benchmarks/dispatch.py`): SQLAlchemy's
per-execution cache key, result adaptation and greenlet hops cost more than the query.
On SQLite it then reads on the event loop's own thread (`Database.inline_reader`): the hop
to aiosqlite's thread cost more than the lookup, and that took `/whoami` from about 4,000
to 11,000 a second on one core (issue 16). On PostgreSQL it reads on a plain psycopg
connection (`storage.driver_pool`), and a chat message's duplicate check rides along in
the same statement (`storage.events.EventLedger.identify`).

The price is that this module must give exactly the ORM's answer;
`tests/test_identity_fast_path.py` compares the two on SQLite and PostgreSQL for every
kind of person, so a driver upgrade or a schema change that breaks the equality fails there.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect

from storage.db import Database
from storage.identity import LOOKUP, StaffView, view_from_rows
from storage.models import Identity

_IDENTIFY = LOOKUP.where(
    Identity.platform == bindparam("platform"),
    Identity.platform_user_id == bindparam("platform_user_id"),
)
_IDENTIFY_KEYS = [str(column.key) for column in _IDENTIFY.selected_columns]
_COMPILED: dict[str, tuple[str, list[str] | None]] = {}


def _compiled(dialect: Dialect) -> tuple[str, list[str] | None]:
    """The lookup's SQL (and its positional parameter order), compiled once per dialect:
    SQLAlchemy's per-execution cache key and result adaptation cost more than the query."""
    found = _COMPILED.get(dialect.name)
    if found is None:
        compiled = _IDENTIFY.compile(dialect=dialect)
        order = list(compiled.positiontup or []) if dialect.positional else None
        found = _COMPILED[dialect.name] = (str(compiled), order)
    return found


class _RawRow:
    """A driver row with the column types the ORM would have given (SQLite stores
    booleans as integers, dates as text and JSON as text)."""

    def __init__(self, keys: list[str], values: tuple[Any, ...]) -> None:
        data = dict(zip(keys, values, strict=True))
        for name in ("union_member", "delegate"):
            data[name] = bool(data[name])
        for name in ("birth_date", "hire_date"):
            if isinstance(data[name], str):
                data[name] = date.fromisoformat(data[name])
        if isinstance(data["form_state"], str):
            data["form_state"] = json.loads(data["form_state"])
        self.__dict__.update(data)


def _read_inline(database: Database, params: dict[str, str]) -> list[Any] | None:
    """The lookup on the loop's own SQLite connection (`Database.read_inline`)."""
    if not database.sqlite:
        return None
    sql, order = _compiled(database.engine.dialect)
    return database.read_inline(sql, [params[name] for name in order or ()])


def lookup_sql(dialect: Dialect) -> str:
    """The lookup with `%(platform)s` and `%(platform_user_id)s` (psycopg's style), for a
    statement that asks it together with something else (`storage.events`)."""
    return _compiled(dialect)[0]


def view_from_driver(rows: list[Any]) -> StaffView | None:
    """The view from the lookup's rows as the driver returns them (tuples)."""
    return view_from_rows([_RawRow(_IDENTIFY_KEYS, tuple(row)) for row in rows], with_form=True)


async def identify(database: Database, platform: str, platform_user_id: str) -> StaffView | None:
    """`lookup` outside any transaction, precompiled: the one round trip every message pays."""
    params: Any = {"platform": platform, "platform_user_id": platform_user_id}
    found = _read_inline(database, params)
    if found is not None:
        return view_from_rows([_RawRow(_IDENTIFY_KEYS, r) for r in found], with_form=True)
    if database.driver is not None:
        sql, _ = _compiled(database.engine.dialect)
        async with database.driver.cursor() as cursor:
            await cursor.execute(sql, params)
            rows: list[Any] = await cursor.fetchall()
    else:
        # SQLite when the inline read could not answer: one trip to aiosqlite's thread
        # (execute and fetch together), without SQLAlchemy's greenlet hops.
        async with database.engine.connect() as orm_connection:
            sql, order = _compiled(orm_connection.dialect)
            raw: Any = (await orm_connection.get_raw_connection()).driver_connection
            rows = list(await raw.execute_fetchall(sql, tuple(params[n] for n in order or ())))
    return view_from_driver(rows)
