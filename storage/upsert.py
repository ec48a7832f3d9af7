"""INSERT ... ON CONFLICT DO NOTHING on both databases: the base of exactly-once scheduling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_ignore(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str],
) -> int:
    """Insert the rows that do not clash with `conflict` columns; returns how many went in."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .on_conflict_do_nothing(index_elements=list(conflict))
        # psycopg reports no rowcount here; the rows that went in come back instead.
        .returning(*inspect(model).primary_key)
    )
    # Rows as parameters, not as VALUES: one cached statement that SQLAlchemy batches
    # ("insertmanyvalues"), instead of compiling a new giant statement every time.
    result = await session.execute(statement, [dict(row) for row in rows])
    return len(result.all())
