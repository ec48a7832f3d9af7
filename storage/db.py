"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

One URL configures both: `sqlite:///file.db` or `postgresql://...`. The async
engine serves the bot; the sync URL serves Alembic and the CLI's bulk work.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from storage.gate import FairGate
from storage.grams import sqlite_bigrams

if TYPE_CHECKING:
    from storage.driver_pool import DriverPool

INLINE_BUSY_MS = 50  # the longest an inline read may hold the event loop waiting


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
    # The proposal search index's triggers call it (migration 0011): every connection that
    # may write a proposal must have it.
    dbapi_connection.create_function("unionbot_bigrams", 1, sqlite_bigrams, deterministic=True)


def install_sqlite_pragmas(engine: Any) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
# Whether the unit of work running in this context holds the writer: set by
# `Database.session`/`lazy_session`, taken by the first write statement in it.
_HOLDS_WRITER: ContextVar[list[bool] | None] = ContextVar("holds_writer", default=None)
WRITER_TIMEOUT = 10.0  # seconds a write waits for the one before it, as the busy timeout


class SQLiteWriter:
    """One writing transaction at a time in this process, the others queued in order.

    SQLite allows one writer; a second connection that tries to write waits in SQLite's
    busy handler, which sleeps in growing steps (up to 100 ms at a time) and polls, so with
    16 people writing at once a few waited seconds and some failed with "database is
    locked" after the 10 s timeout. Here a unit of work takes this lock just before its
    first write statement (the driver begins the transaction there) and gives it back once
    its commit or rollback has returned, so writers never meet inside SQLite. Reads take
    nothing: outside a write the driver runs them without a transaction (WAL lets them
    read beside the writer). Another process (the CLI) is still met by the busy timeout.
    """

    def __init__(self, timeout: float = WRITER_TIMEOUT) -> None:
        self.timeout = timeout
        self._lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a lock belongs to one loop; a CLI may run several
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self) -> None:
        try:
            await asyncio.wait_for(self._current().acquire(), self.timeout)
        except TimeoutError:
            raise TimeoutError(
                f"waited {self.timeout:.0f} s for the database's writer (SQLite)"
            ) from None

    def release(self) -> None:
        self._current().release()

    def before_execute(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        held = _HOLDS_WRITER.get()
        if held is None or held[0] or not _WRITE.match(statement):
            return
        await_only(self.acquire())  # SQLAlchemy runs this in its greenlet: it may await
        held[0] = True

    @contextlib.asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """The scope of one unit of work: what it takes is given back when it ends."""
        held = [False]
        token = _HOLDS_WRITER.set(held)
        try:
            yield
        finally:
            _HOLDS_WRITER.reset(token)
            if held[0]:
                self.release()


POOL_SIZE = 10  # connections each pool keeps open
POOL_OVERFLOW = 0  # more, opened for a burst and closed after it
POOL_TIMEOUT = 30.0  # seconds a message waits for a connection before it fails


class Database:
    """The async engine and session factory for one database URL.

    Each pool (PostgreSQL has two: the ORM's transactions, and `driver` for the statements
    every message pays) keeps `pool_size`
    connections and, by default, opens no more: a burst of hundreds of people pressing
    a button waits its turn for a warm connection (first come, first served) instead of
    opening and closing one per message beyond the pool, which costs more than the
    query and made throughput fall by half at 16 people at once.
    """

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = POOL_SIZE,
        overflow: int = POOL_OVERFLOW,
        pool_timeout: float = POOL_TIMEOUT,
    ) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.closed = False
        self._inline: sqlite3.Connection | None = None
        # Sessions always end in an explicit commit or rollback, so the pool's own
        # rollback on check-in would be one more round trip per message for nothing.
        pool: dict[str, Any] = {
            "pool_reset_on_return": None,
            "pool_size": pool_size,
            "max_overflow": overflow,
            "pool_timeout": pool_timeout,
        }
        if not self.sqlite:
            # Recycling instead of pre-ping: a ping is a round trip on every checkout.
            pool["pool_recycle"] = 1800
        self.engine: AsyncEngine = create_async_engine(async_url(url), echo=echo, **pool)
        self.writer: SQLiteWriter | None = None
        if self.sqlite:
            install_sqlite_pragmas(self.engine.sync_engine)
            self.writer = SQLiteWriter()
            event.listen(
                self.engine.sync_engine, "before_cursor_execute", self.writer.before_execute
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # One message's work at a time per connection the pool keeps, in arrival order.
        self.turn = FairGate(pool_size + overflow)
        # The statements every message pays, outside any transaction, on plain driver
        # connections (`storage.driver_pool`); None on SQLite, where they read inline.
        self.driver: DriverPool | None = None
        if not self.sqlite:
            from storage.driver_pool import DriverPool  # psycopg only where it serves

            self.driver = DriverPool(url, pool_size + overflow, pool_timeout)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A transaction: committed at the end of the block, rolled back on an exception."""
        async with self._unit(), self.sessions() as session, session.begin():
            yield session

    def _unit(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.writer.unit() if self.writer is not None else contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def lazy_session(self) -> AsyncIterator[AsyncSession]:
        """Like `session`, but the transaction begins only if the block uses the database.

        A message that only needs the identity lookup (done outside the ORM) then costs no
        BEGIN and no COMMIT: on this machine a round trip is about half a millisecond.
        """
        async with self._unit():
            session = self.sessions()
            try:
                yield session
            except BaseException:
                if session.in_transaction():
                    await session.rollback()
                await session.close()
                raise
            if session.in_transaction():
                await session.commit()
                await session.close()
            elif session.sync_session.identity_map:
                await session.close()
            # else: never used (or used and given back); closing would cost a greenlet hop

    def inline_reader(self) -> sqlite3.Connection | None:
        """On SQLite, a plain connection that reads on the event loop's own thread.

        aiosqlite runs every statement on a thread of its own and hands the result back
        through the loop: for the indexed lookup every message starts with (tens of
        microseconds of work) that hop cost more than the query, and let other messages
        interleave while it was under way. Read in WAL mode, a committed snapshot never
        waits for the writer; `query_only` makes it unable to write, and a short busy
        timeout bounds the rare wait (a checkpoint resetting the log), after which the
        caller takes the ordinary way. None on PostgreSQL and for an in-memory database.
        """
        if not self.sqlite or self.closed:
            return None
        if self._inline is None:
            path = make_url(self.url).database
            if not path or path == ":memory:" or path.startswith("file:"):
                return None
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute(f"PRAGMA busy_timeout={INLINE_BUSY_MS}")
            connection.execute("PRAGMA query_only=ON")
            self._inline = connection
        return self._inline

    def read_inline(self, sql: str, params: Sequence[Any]) -> list[Any] | None:
        """`sql` (qmark style) on `inline_reader`: its rows, or None where there is no such
        reader or the file stayed busy past the short timeout (the caller then takes the
        ordinary way)."""
        inline = self.inline_reader()
        if inline is None:
            return None
        try:
            return inline.execute(sql, tuple(params)).fetchall()
        except sqlite3.OperationalError:
            return None

    async def dispose(self) -> None:
        self.closed = True
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await self.engine.dispose()
        if self.driver is not None:
            await self.driver.close()
