"""Plain psycopg connections for the statements every PostgreSQL message pays.

Two statements run for each update that reaches the bot: the duplicate check
(`storage.events`) and the identity lookup (`storage.identity_fast_path`). Both are one
precompiled statement outside any transaction. Taking a connection from SQLAlchemy's
async pool for them cost about 110 µs of CPU each (greenlet hops, the pool's checkout and
check-in events), as much as the round trip itself (issue 16, issue 22), so they take a
driver connection from this small pool instead: a list of idle connections behind a gate
that lets waiters in, in the order they came.

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


class DriverPool:
    """Up to `capacity` autocommit psycopg connections, opened when first needed and kept.

    A connection given back in the middle of a statement (a cancelled message) or broken
    is closed rather than reused; `opened` counts connections made, so a benchmark or a
    test can tell that a burst opened none after the warm-up.
    """

    def __init__(self, url: str, capacity: int, timeout: float) -> None:
        self.conninfo = conninfo(url)
        self.capacity = capacity
        self.timeout = timeout
        self.opened = 0
        self._idle: list[tuple[psycopg.AsyncConnection[tuple[object, ...]], float]] = []
        self._gate = FairGate(capacity)
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[tuple[object, ...]]]:
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
            connection, born = await self._take()
            try:
                yield connection
            finally:
                if (
                    connection.closed
                    or connection.broken
                    or connection.info.transaction_status != TransactionStatus.IDLE
                ):
                    await connection.close()
                else:
                    self._idle.append((connection, born))
        finally:
            await self._gate.__aexit__()

    async def _take(self) -> tuple[psycopg.AsyncConnection[tuple[object, ...]], float]:
        while self._idle:
            connection, born = self._idle.pop()
            if time.monotonic() - born < RECYCLE_AFTER and not connection.closed:
                return connection, born
            await connection.close()
        connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await connection.execute("SET synchronous_commit = off")
        self.opened += 1
        return connection, time.monotonic()

    def _same_loop(self) -> None:
        """Connections belong to the loop that made them; a CLI may run several loops."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            stale, self._idle = self._idle, []
            for connection, _ in stale:
                with contextlib.suppress(Exception):
                    connection.pgconn.finish()
            self._gate = FairGate(self.capacity)
            self._loop = loop

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            with contextlib.suppress(Exception):
                await connection.close()
