"""The plain driver connections of the PostgreSQL hot path (`storage.driver_pool`): reused,
fair, bounded in time, and never handing out a connection left mid-statement or broken."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from storage.driver_pool import DriverPool


@pytest.fixture
def pg_url(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only: SQLite reads inline")
    return db_url


async def backend_pid(pool: DriverPool) -> int:
    async with pool.cursor() as cursor:
        await cursor.execute("SELECT pg_backend_pid()")
        row = await cursor.fetchone()
    assert row is not None
    return int(str(row[0]))


async def test_connections_are_kept_and_reused_in_autocommit_without_sync_commit(
    pg_url: str,
) -> None:
    pool = DriverPool(pg_url, capacity=2, timeout=5)
    try:
        first = await backend_pid(pool)
        assert await backend_pid(pool) == first and pool.opened == 1
        await asyncio.gather(*(backend_pid(pool) for _ in range(20)))
        assert pool.opened == 2, "a burst shares the pool's two connections"
        async with pool.cursor() as cursor:
            await cursor.execute("SHOW synchronous_commit")
            assert await cursor.fetchone() == ("off",)
            assert cursor.connection.autocommit
    finally:
        await pool.close()


async def test_a_statement_cancelled_midway_leaves_no_busy_connection_behind(
    pg_url: str,
) -> None:
    pool = DriverPool(pg_url, capacity=1, timeout=5)
    try:
        await backend_pid(pool)

        async def slow() -> None:
            async with pool.cursor() as cursor:
                await cursor.execute("SELECT pg_sleep(5)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # psycopg cancels the statement on the server and the connection is idle again, or
        # it is closed and a new one serves: either way not "another command in progress"
        # and not waiting for the sleep to end.
        await asyncio.wait_for(backend_pid(pool), 3)
        async with pool.cursor() as cursor:
            await cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' "
                "AND state = 'active'"
            )
            assert await cursor.fetchone() == (0,), "the sleep does not go on on the server"
    finally:
        await pool.close()


async def test_waiting_past_the_timeout_says_which_setting_to_raise(pg_url: str) -> None:
    pool = DriverPool(pg_url, capacity=1, timeout=0.2)
    try:
        async with pool.cursor():
            with pytest.raises(TimeoutError, match="UNIONBOT_DB_POOL_SIZE"):
                async with pool.cursor():
                    pass
        await backend_pid(pool)  # and the place is free again
    finally:
        await pool.close()


async def test_after_the_server_drops_connections_one_statement_fails_and_the_next_works(
    pg_url: str,
) -> None:
    pool = DriverPool(pg_url, capacity=3, timeout=5)
    try:
        pids = await asyncio.gather(*(backend_pid(pool) for _ in range(9)))
        assert pool.opened == 3
        async with await psycopg.AsyncConnection.connect(pool.conninfo, autocommit=True) as admin:
            for pid in set(pids):
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        await asyncio.sleep(0.2)
        with pytest.raises(psycopg.OperationalError):
            await backend_pid(pool)
        fresh = await backend_pid(pool)
        assert fresh not in pids and pool.opened == 4, "the idle ones were dropped with it"
    finally:
        await pool.close()
