"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

One URL configures both: `sqlite:///file.db` or `postgresql://...`. The async
engine serves the bot; the sync URL serves Alembic and the CLI's bulk work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def _driver_url(url: str, *, asynchronous: bool) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        driver = "aiosqlite" if asynchronous else "pysqlite"
    elif backend in ("postgresql", "postgres"):
        backend, driver = "postgresql", "psycopg"
    else:
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed.set(drivername=f"{backend}+{driver}").render_as_string(hide_password=False)


def async_url(url: str) -> str:
    return _driver_url(url, asynchronous=True)


def sync_url(url: str) -> str:
    return _driver_url(url, asynchronous=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install_sqlite_pragmas(engine: Any) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)


class Database:
    """The async engine and session factory for one database URL."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        # Sessions always end in an explicit commit or rollback, so the pool's own
        # rollback on check-in would be one more round trip per message for nothing.
        kwargs: dict[str, Any] = {"echo": echo, "pool_reset_on_return": None}
        if not self.sqlite:
            # Recycling instead of pre-ping: a ping is a round trip on every checkout.
            kwargs.update(pool_size=10, max_overflow=10, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        if self.sqlite:
            install_sqlite_pragmas(self.engine.sync_engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads outside any transaction: on PostgreSQL a pool of autocommit connections
        # (set once at connect, so no BEGIN/COMMIT and no per-checkout switching); SQLite's
        # driver begins only before a write, so its ordinary connections already read so.
        self.reader: AsyncEngine = self.engine
        if not self.sqlite:
            self.reader = create_async_engine(
                async_url(url),
                isolation_level="AUTOCOMMIT",
                pool_size=5,
                max_overflow=10,
                pool_recycle=1800,
                pool_reset_on_return=None,
            )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed at the end of the block, rolled back on an exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def lazy_session(self) -> AsyncIterator[AsyncSession]:
        """Like `session`, but the transaction begins only if the block uses the database.

        A message that only needs the identity lookup (done by `reader`) then costs no
        BEGIN and no COMMIT: on this machine a round trip is about half a millisecond.
        """
        async with self.sessions() as session:
            try:
                yield session
            except BaseException:
                if session.in_transaction():
                    await session.rollback()
                raise
            if session.in_transaction():
                await session.commit()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()
