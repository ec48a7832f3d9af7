"""The composition root: the one place that wires the framework to the union's commands,
store and schedules. Everything else in `bot/` knows nothing of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

import commands
from bot.adapter import Adapter, Runtime, discover
from bot.adapters.console import ConsoleAdapter
from bot.config import Settings
from bot.directory import Directory, DirectoryUnavailable
from bot.dispatcher import Dispatcher
from bot.http_edge import EdgeLimits, EdgeRunner, edge_app, serve
from bot.i18n import BOT_LOCALES, Catalog
from bot.registry import Registry
from commands import _directory as directory_sync
from commands._backend import StoreBackend
from commands._benefits import clock as benefits_clock
from commands._charts import maker as chart_maker
from commands._digests import clock as digest_clock
from commands.errors import translate
from schedules.deliverer import Deliverer, Prepare, Send, SendMany
from schedules.ratelimit import RateLimiter
from schedules.tick import claim_scheduler, tick
from storage import events, identity, leases, linking, migrate
from storage.clock import utcnow
from storage.db import Database
from storage.demo import load_demo
from storage.digests.service import CHART
from storage.directory import SyncReport, TooManyEnded
from storage.errors import DomainError
from storage.models import Staff
from storage.store import Actor, Store

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    """The database schema does not match this code; the message says what to do."""


def build_catalog() -> Catalog:
    catalog = Catalog()
    catalog.load_dir(BOT_LOCALES)
    catalog.load_dir(commands.LOCALES)
    return catalog


@dataclass
class App:
    settings: Settings
    database: Database
    catalog: Catalog
    registry: Registry
    dispatcher: Dispatcher[Store]
    runtime: Runtime
    adapters: list[Adapter] = field(default_factory=list)
    deliverer: Deliverer | None = None

    async def close(self) -> None:
        if isinstance(self.runtime.store, StorePlatformServices):
            await self.runtime.store.ledger.close()
        await self.database.dispose()


class StorePlatformServices:
    """`bot.adapter.PlatformStore` on the application's database."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.ledger = events.EventLedger(database)

    async def first_time(self, platform: str, *event_ids: str) -> bool:
        return await self.ledger.first_time(platform, *event_ids)

    async def token_for(self, command: str) -> str:
        async with self.database.session() as session:
            return await events.token_for(Store(session), command)

    async def command_for(self, token: str) -> str | None:
        async with self.database.session() as session:
            return await events.command_for(Store(session), token)

    async def acquire_lease(self, name: str, holder: str, seconds: float) -> bool:
        async with self.database.session() as session:
            return await leases.acquire(Store(session), name, holder, timedelta(seconds=seconds))

    async def release_lease(self, name: str, holder: str) -> None:
        async with self.database.session() as session:
            await leases.release(Store(session), name, holder)

    async def link_by(
        self, platform: str, user_id: str, field: str, value: str, display_name: str
    ) -> bool:
        async with self.database.session() as session:
            store = Store(session, Actor(None, platform, field))
            # Also when already linked: the roster decides whose email (mobile, number)
            # this is, so an account the roster now gives to someone else follows it.
            view = await linking.link_by_roster(
                store, platform, user_id, field, value, display_name=display_name
            )
            return view is not None


def build(settings: Settings) -> App:
    database = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        overflow=settings.db_pool_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    catalog = build_catalog()
    registry = commands.build_registry(settings)
    # One ledger of handled events: adapters check with it before dispatching, or the
    # dispatcher with the sender's lookup (`IncomingMessage.once`).
    store = StorePlatformServices(database)
    backend = StoreBackend(database, store.ledger)
    dispatcher: Dispatcher[Store] = Dispatcher(registry, catalog, backend, settings)
    dispatcher.add_error_handler(DomainError, translate)
    runtime = Runtime(settings=settings, dispatcher=dispatcher, catalog=catalog, store=store)
    return App(settings, database, catalog, registry, dispatcher, runtime)


def configuration_problems(settings: Settings) -> list[str]:
    """Everything wrong with the settings, the framework's and the commands' own."""
    problems = [*settings.validate(), *commands.configuration_problems(settings, build_catalog())]
    try:
        RateLimiter(settings.env)
    except ValueError as exc:
        problems.append(str(exc))
    return problems


def ensure_schema(settings: Settings) -> str | None:
    """Check the schema; the embedded default migrates itself. Returns what it did, if anything."""
    state = migrate.status(settings.database_url)
    if state.up_to_date:
        return None
    if state.ahead:
        raise SchemaError(
            f"The database has schema revision {sorted(state.current)}, which this version of "
            f"unionbot does not know (it expects {sorted(state.heads)}). Upgrade unionbot."
        )
    if settings.is_default_database:
        migrate.upgrade(settings.database_url)
        return "migrated" if state.current else "created"
    raise SchemaError(
        f"The database schema is behind (at {sorted(state.current) or 'empty'}, "
        f"needs {sorted(state.heads)}). Run: unionbot db upgrade"
    )


async def load_demo_if_empty(app: App) -> bool:
    from sqlalchemy import func, select

    async with app.database.session() as session:
        count = await session.scalar(select(func.count()).select_from(Staff))
        if count:
            return False
        await load_demo(Store(session, Actor(None, "cli", "demo")), tz=app.settings.tz)
        return True


async def link_console(app: App, staff_no: str) -> bool:
    """The console is run by whoever holds the server: it links itself to the roster entry."""
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "console"))
        view = await identity.staff_by_no(store, staff_no)
        if view is None:
            return False
        await identity.ensure_identity(
            store, ConsoleAdapter.platform, staff_no, view.id, display_name=view.name, via="console"
        )
        return True


def make_deliverer(
    app: App,
    senders: dict[str, Send],
    *,
    quiet_hours: bool = True,
    holder: str | None = None,
    preparers: Mapping[str, Prepare] | None = None,
    batchers: Mapping[str, tuple[SendMany, int]] | None = None,
) -> Deliverer:
    """`quiet_hours=False` where the person is sitting at the screen (the console);
    `holder` names a running instance's deliverer to the others (rate budget, rerouting)."""
    return Deliverer(
        app.database,
        app.catalog,
        senders,
        app.dispatcher.default_language,
        default_timezone=app.settings.tz,
        quiet_hours=app.settings.quiet_hours if quiet_hours else "00:00-00:00",
        limiter=RateLimiter(app.settings.env),
        lease=timedelta(seconds=app.settings.delivery_lease_seconds),
        holder=holder,
        preparers=preparers,
        batchers=batchers,
        unserved_after=timedelta(minutes=app.settings.delivery_unserved_minutes),
        attachments={CHART: chart_maker(app.database, app.catalog)},
    )


async def console_session(
    app: App, staff_no: str, *, language: str | None = None, stdin: Any = None, stdout: Any = None
) -> ConsoleAdapter:
    console = ConsoleAdapter(
        app.runtime, user_id=staff_no, language=language, stdin=stdin, stdout=stdout
    )
    deliverer = make_deliverer(app, {ConsoleAdapter.platform: console.send}, quiet_hours=False)

    async def deliver(user_id: str) -> int:
        return await deliverer.run_once(
            platform_user_id=user_id, platforms=[ConsoleAdapter.platform]
        )

    console.deliver = deliver
    return console


async def sync_directory(app: App, directory: Directory) -> SyncReport | None:
    """A directory sync on the clock: one log line of what it did, or of why it could not."""
    try:
        async with app.database.session() as session:
            store = Store(session, Actor(None, directory.platform, "directory-sync"))
            report, calls = await directory_sync.sync(store, directory)
    except (DirectoryUnavailable, TooManyEnded) as exc:
        log.warning("%s directory sync did nothing: %s", directory.platform, exc)
        return None
    log.info(
        "%s directory sync (%s calls): %s",
        directory.platform,
        calls,
        ", ".join(f"{name} {count}" for name, count in directory_sync.counts(report).items()),
    )
    return report


def configured_adapters(app: App) -> list[Adapter]:
    """Every installed adapter whose settings name it. One that is configured but cannot work
    raises `AdapterConfigError`: better to stop with the reason than to run without it."""
    adapters: list[Adapter] = []
    for name, cls in discover().items():
        if name != ConsoleAdapter.platform and cls.is_configured(app.settings):
            adapters.append(cls(app.runtime))
    return adapters


def http_app(app: App) -> web.Application:
    settings = app.settings
    http = edge_app(
        EdgeLimits(
            header_timeout=settings.http_header_timeout,
            body_timeout=settings.http_body_timeout,
            idle_timeout=settings.http_idle_timeout,
        )
    )

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "adapters": [a.platform for a in app.adapters]})

    http.router.add_get("/healthz", health)
    return http


def settle_heap() -> None:
    """Take what start-up made out of the garbage collector's way.

    The libraries, the ORM's tables and the catalogues leave a few hundred thousand
    objects that live as long as the process; each full collection walked them all, 60-75 ms
    with the event loop stopped, a few times a minute under a crowd: the p99 of 16 people
    writing at once on Slack went from about 25 to 90 ms in those rounds. Frozen after
    start-up (`gc.freeze`), a full collection walks only what came since: about 4 ms.
    """
    gc.collect()
    gc.freeze()


async def run(app: App, *, console_as: str, say: Any) -> None:
    """Start every configured adapter, the scheduler and the HTTP server; console if none."""
    app.runtime.http = http_app(app)
    app.adapters = configured_adapters(app)
    console: ConsoleAdapter | None = None
    if not app.adapters:
        if await load_demo_if_empty(app):
            say("demo_loaded")
        if not await link_console(app, console_as):
            raise SchemaError(f"There is no staff member {console_as} on the roster.")
        console = await console_session(app, console_as)
        say("console_started")
    directories = {
        directory.platform: directory
        for adapter in app.adapters
        if (directory := adapter.directory()) is not None
    }
    app.dispatcher.directories.update(directories)
    senders: dict[str, Send] = {a.platform: a.send for a in app.adapters}
    holder = f"{socket.gethostname()}:{os.getpid()}"
    app.deliverer = make_deliverer(
        app,
        senders,
        holder=holder if senders else None,
        preparers={a.platform: a.prepare for a in app.adapters},
        batchers={a.platform: (a.send_many, a.batch_size) for a in app.adapters},
    )
    # A job that starts late because the loop was busy still runs (once, however late):
    # APScheduler's default grace of one second would skip the clock's tick under a burst.
    scheduler = AsyncIOScheduler(
        timezone="UTC", job_defaults={"misfire_grace_time": None, "coalesce": True}
    )
    running: set[asyncio.Task[Any]] = set()

    def tracked(job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[None]]:
        """A job whose task is known, so shutting down can let it finish before the database
        goes: a tick cut off mid-transaction would keep its connection's thread alive."""

        async def run_job(*args: Any) -> None:
            task = asyncio.current_task()
            assert task is not None
            running.add(task)
            try:
                await job(*args)
            finally:
                running.discard(task)

        return run_job

    stopping = asyncio.Event()
    sending: asyncio.Task[None] | None = None
    if await claim_scheduler(app.database, holder):
        scheduler.add_job(
            tracked(tick),
            "interval",
            args=[
                app.database,
                app.settings.tz,
                None,
                benefits_clock(app.settings),
                digest_clock(app.settings),
            ],
            seconds=30,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        for directory in directories.values():
            # At start-up (once the adapters are up), then daily: on the instance that
            # runs the clock only, so that the directory is read once however many run.
            when = app.settings.directory_sync_at
            scheduler.add_job(
                tracked(sync_directory),
                args=[app, directory],
                id=f"directory-sync-now:{directory.platform}",
                next_run_time=utcnow() + timedelta(seconds=5),
            )
            if when != "off":
                hour, minute = when.split(":")[:2]
                scheduler.add_job(
                    tracked(sync_directory),
                    "cron",
                    args=[app, directory],
                    hour=int(hour),
                    minute=int(minute),
                    timezone=app.settings.tz,
                    id=f"directory-sync:{directory.platform}",
                    max_instances=1,
                    coalesce=True,
                )
        if app.database.sqlite:
            scheduler.add_job(
                tracked(claim_scheduler),
                "interval",
                args=[app.database, holder],
                seconds=30,
                id="scheduler-lease",
            )
    else:
        say("scheduler_elsewhere")
    scheduler.start()
    runner: EdgeRunner | None = None
    try:
        runner, _site = await serve(
            app.runtime.http, app.settings.http_host, app.settings.http_port
        )
    except OSError as exc:
        if app.adapters:
            raise
        log.warning(
            "HTTP server not started on %s:%s (%s); the console does not need it",
            app.settings.http_host,
            app.settings.http_port,
            exc.strerror,
        )
    try:
        for adapter in app.adapters:
            await adapter.start()
        settle_heap()
        if senders:
            sending = asyncio.create_task(
                app.deliverer.keep_sending(app.settings.delivery_interval_seconds, stopping)
            )
        if console is not None:
            await console.start()
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            say(
                "serving",
                adapters=", ".join(a.platform for a in app.adapters),
                http=f"{app.settings.http_host}:{app.settings.http_port}",
            )
            await stop.wait()
    finally:
        for adapter in app.adapters:
            with contextlib.suppress(Exception):
                await adapter.stop()
        scheduler.shutdown(wait=False)
        stopping.set()
        if sending is not None:
            running.add(sending)
        if running:
            await asyncio.wait(running, timeout=30)
        await app.deliverer.stop()
        if runner is not None:
            await runner.cleanup()
