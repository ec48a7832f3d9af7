"""Plain psycopg connections for the statements every PostgreSQL message pays.

Two statements run for each update that reaches the bot: the duplicate check
(`storage.events`) and the identity lookup (`storage.identity_fast_path`). Both are one
precompiled statement outside any transaction. Taking a connection from SQLAlchemy's
async pool for them cost about 110 µs of CPU each (greenlet hops, the pool's checkout and
check-in events), as much as the round trip itself (issue 16, issue 22), so they take a
driver connection from this small pool instead: a list of idle connections, each with its
cursor kept open (making one per statement cost another 20 µs), behind a gate that lets
waiters in, in the order they came.

The connections are in autocommit mode with `synchronous_commit` off: the only write on
them is the duplicate check's key, and after a server crash losing the last fraction of a
second of keys means at worst that a platform's retry in that moment is handled again,
while waiting for the disk on every update cost about 0.2 ms of each reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.engine import make_url

from storage.gate import FairGate

log = logging.getLogger(__name__)

RECYCLE_AFTER = 1800.0  # seconds a connection serves before it is replaced (as the ORM pool)


def conninfo(url: str) -> str:
    """The libpq URI of a `postgresql://` or `postgresql+psycopg://` URL (its query
    parameters, such as `options`, kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


Row = tuple[object, ...]


@dataclass
class _Held:
    connection: psycopg.AsyncConnection[Row]
    cursor: psycopg.AsyncCursor[Row]
    born: float


class DriverPool:
    """Up to `capacity` autocommit psycopg connections, opened when first needed and kept.

    A connection given back in the middle of a statement (a cancelled message) is closed
    rather than reused, and a broken one takes the idle ones with it (as SQLAlchemy's pool
    does on a disconnect); `opened` counts connections made, so a benchmark or a
    test can tell that a burst opened none after the warm-up.
    """

    def __init__(self, url: str, capacity: int, timeout: float) -> None:
        self.conninfo = conninfo(url)
        self.capacity = capacity
        self.timeout = timeout
        self.opened = 0
        self._idle: list[_Held] = []
        self._gate = FairGate(capacity)
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def cursor(self) -> AsyncIterator[psycopg.AsyncCursor[Row]]:
        """A cursor on a connection of the pool, for one statement or a few."""
        self._same_loop()
        try:
            async with asyncio.timeout(self.timeout):
                await self._gate.__aenter__()
        except TimeoutError:
            raise TimeoutError(
                f"waited {self.timeout:.0f} s for a database connection "
                f"(all {self.capacity} busy: see UNIONBOT_DB_POOL_SIZE)"
            ) from None
        try:
            held = await self._take()
            try:
                yield held.cursor
            finally:
                connection = held.connection
                if connection.broken:
                    # The server went away (a restart, a failover): the idle ones went with
                    # it, so they are dropped now rather than failing one message each.
                    await self.close()
                if (
                    connection.closed
                    or connection.broken
                    or connection.info.transaction_status != TransactionStatus.IDLE
                ):
                    await connection.close()
                else:
                    self._idle.append(held)
        finally:
            await self._gate.__aexit__()

    async def _take(self) -> _Held:
        while self._idle:
            held = self._idle.pop()
            if time.monotonic() - held.born < RECYCLE_AFTER and not held.connection.closed:
                return held
            await held.connection.close()
        connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await connection.execute("SET synchronous_commit = off")
        self.opened += 1
        return _Held(connection, connection.cursor(), time.monotonic())

    def _same_loop(self) -> None:
        """Connections belong to the loop that made them; a CLI may run several loops."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            stale, self._idle = self._idle, []
            for held in stale:
                with contextlib.suppress(Exception):
                    held.connection.pgconn.finish()
            self._gate = FairGate(self.capacity)
            self._loop = loop

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for held in idle:
            with contextlib.suppress(Exception):
                await held.connection.close()
