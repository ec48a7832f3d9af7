"""The whole path, as a platform sees the bot: updates POSTed over HTTP to a real `unionbot
run` (the Telegram webhook and Slack's HTTP mode), replies received by a fast fake platform
API, beside the floor the chat libraries set by themselves.

The floor is a bare python-telegram-bot `Application` and a bare bolt `AsyncApp`, each in a
process of its own, whose `/whoami` does one real read of the same database (who is this
account on the roster) and replies; `unionbot run` does everything it does for real. Each
person waits for their reply before writing again; every update comes from a linked user,
the people at once taking turns among `--people` distinct accounts. The configurations are
measured alternately, cell by cell, for several rounds.

    python -m benchmarks.e2e [--updates 2000] [--rounds 3] [--levels 1,16,64]
                             [--platforms telegram,slack] [--postgres URL | --no-postgres]
    python -m benchmarks.e2e --idle            # RSS of an idle `unionbot run` with Telegram
    python -m benchmarks.e2e --soak 40000      # one run, 8 at once: memory, descriptors, latency

For each round, platform, database and number of people at once it prints replies/s,
p50/p99, how many replies took over a second, how many were lost (no reply in 10 s), the
connections the bot opened to the platform per 1,000 replies, and unionbot's ratio to the
floor. Before the burst of the most people at once, an urgent notice is queued for one
more person: the line after the table says how long it took to arrive while the crowd wrote.
Targets (issue 22): on SQLite at 16 and 64 nobody waits over 1 s, none lost, p99 at 16 under
100 ms; replies/s at least 0.8 of the floor at 1 and 16 people at once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

UNIONBOT = str(Path(sys.executable).parent / "unionbot")
TG_TOKEN = "123456:BENCH-token"
TG_SECRET = "bench-webhook-secret"
SLACK_TOKEN = "xoxb-bench-token"
SLACK_SECRET = "bench-signing-secret"
TG_BASE = 700_000
LOST_AFTER = 10.0
BOT = {"id": 999, "is_bot": True, "first_name": "UnionBot", "username": "unionbot_bench"}


# ---------------------------------------------------------------- the fast fake platform API


@dataclass
class FakeAPI:
    """Telegram's Bot API and Slack's Web API, answering at once; a reply to a person
    resolves the future their writer waits on."""

    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    peers: set[tuple[str, int]] = field(default_factory=set)
    runner: web.AppRunner | None = None
    url: str = ""
    next_id: int = 1

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self.telegram)
        app.router.add_route("*", "/api/{method}", self.slack)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _arrived(self, request: web.Request, who: str) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.peers.add(tuple(peer[:2]))
        future = self.waiting.pop(who, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        return dict(await request.post()) if request.can_read_body else {}

    async def telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT})
        if method == "sendMessage":
            self.next_id += 1
            chat = int(params["chat_id"])
            self._arrived(request, f"tg:{chat}")
            result = {
                "message_id": self.next_id,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "text": str(params.get("text", ""))[:50],
                "from": BOT,
            }
            return web.json_response({"ok": True, "result": result})
        return web.json_response({"ok": True, "result": True})

    async def slack(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "B1", "team_id": "T1"}
            )
        if method == "users.info":
            user = str(params.get("user"))
            return web.json_response({"ok": True, "user": {"id": user, "locale": "zh-CN"}})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "D" + str(params["users"])}})
        if method == "chat.postMessage":
            self.next_id += 1
            self._arrived(request, f"slack:{params.get('channel')}")
            return web.json_response({"ok": True, "ts": f"{self.next_id}.0001"})
        return web.json_response({"ok": True})


# ---------------------------------------------------------------- the floors


def _lookup_sql() -> str:
    return (
        "SELECT staff.name, staff.staff_no FROM identities JOIN staff ON staff.id = "
        "identities.staff_id WHERE identities.platform = :platform AND "
        "identities.platform_user_id = :uid"
    )


def _autocommit_engine(url: str) -> Any:
    """What a bare library's user would read with: SQLAlchemy's async engine, one
    autocommit connection from its pool per read."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import async_url

    return create_async_engine(
        async_url(url), isolation_level="AUTOCOMMIT", pool_size=10, pool_reset_on_return=None
    )


async def floor_telegram(url: str, api: str, port: int) -> None:
    """A bare PTB Application: the webhook hands each update to `process_update`, and the
    /whoami handler reads the database once and replies."""
    from sqlalchemy import text
    from telegram import Update
    from telegram.ext import Application, CommandHandler, ContextTypes

    database = _autocommit_engine(url)
    lookup = text(_lookup_sql())

    async def whoami(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.effective_user is not None
        async with database.connect() as connection:
            row = (
                await connection.execute(
                    lookup, {"platform": "telegram", "uid": str(update.effective_user.id)}
                )
            ).first()
        name = f"{row[0]}（{row[1]}）" if row else "unknown"
        await update.message.reply_text(f"你是 {name}")

    application = Application.builder().token(TG_TOKEN).base_url(f"{api}/bot").updater(None).build()
    application.add_handler(CommandHandler("whoami", whoami))
    await application.initialize()
    await application.start()

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != TG_SECRET:
            return web.Response(status=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.process_update(update)
        return web.Response()

    http = web.Application()
    http.router.add_post("/telegram/webhook", webhook)
    await _serve_until_signal(http, port)
    await application.stop()
    await application.shutdown()
    await database.dispose()


async def floor_slack(url: str, api: str, port: int) -> None:
    """A bare bolt AsyncApp (its own aiohttp server, its signature check), whose message
    listener reads the database once and replies; its client keeps one session, as
    unionbot's does."""
    import aiohttp
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import text

    database = _autocommit_engine(url)
    lookup = text(_lookup_sql())
    client = AsyncWebClient(
        token=SLACK_TOKEN, base_url=f"{api}/api/", session=aiohttp.ClientSession()
    )
    app = AsyncApp(client=client, signing_secret=SLACK_SECRET)

    @app.event("message")
    async def whoami(event: dict[str, Any], say: Callable[..., Awaitable[Any]]) -> None:
        async with database.connect() as connection:
            row = (
                await connection.execute(lookup, {"platform": "slack", "uid": event["user"]})
            ).first()
        name = f"{row[0]}（{row[1]}）" if row else "unknown"
        await say(f"你是 {name}")

    await _serve_until_signal(app.web_app(path="/slack/events"), port)
    if client.session is not None:
        await client.session.close()
    await database.dispose()


async def _serve_until_signal(http: web.Application, port: int) -> None:
    runner = web.AppRunner(http, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("serving", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


# ---------------------------------------------------------------- the writers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    name: str  # "unionbot" or "floor"
    platform: str
    port: int
    process: asyncio.subprocess.Process | None = None
    log: Path | None = None


def telegram_update(update_id: int, uid: int) -> bytes:
    return json.dumps(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": uid, "type": "private", "first_name": "P"},
                "from": {"id": uid, "is_bot": False, "first_name": "P", "language_code": "zh-hans"},
                "text": "/whoami",
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }
    ).encode()


def slack_event(n: int, uid: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "api_app_id": "A1",
            "event_id": f"EvB{n:09d}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel_type": "im",
                "user": uid,
                "text": "whoami",
                "channel": "D" + uid,
                "ts": f"{n}.0",
            },
        }
    )
    ts = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }
    return body.encode(), headers


class Writers:
    def __init__(self, fake: FakeAPI, people: int) -> None:
        self.fake = fake
        self.people = people
        self.update_ids = itertools.count(1_000_000 + secrets.randbelow(10**6) * 1000)

    async def cell(self, target: Target, level: int, updates: int) -> dict[str, float]:
        fake = self.fake
        fake.peers = set()
        latencies: list[float] = []
        lost = 0
        left = updates
        connector = TCPConnector(limit=0)
        url = f"http://127.0.0.1:{target.port}"
        url += "/telegram/webhook" if target.platform == "telegram" else "/slack/events"
        async with ClientSession(connector=connector) as client:

            async def person(index: int) -> None:
                # Each person writes from accounts of their own (index, index + level, ...):
                # two people on one account would each wait for the other's reply.
                nonlocal left, lost
                accounts = itertools.cycle(range(index, max(self.people, level), level))
                while left > 0:
                    left -= 1
                    n = next(accounts) % self.people
                    update_id = next(self.update_ids)
                    if target.platform == "telegram":
                        who, body = f"tg:{TG_BASE + n}", telegram_update(update_id, TG_BASE + n)
                        headers = {
                            "Content-Type": "application/json",
                            "X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                        }
                    else:
                        uid = f"UP{n:05d}"
                        who = f"slack:D{uid}"
                        body, headers = slack_event(update_id, uid)
                    arrived = asyncio.get_running_loop().create_future()
                    fake.waiting[who] = arrived
                    started = time.perf_counter()
                    try:
                        async with client.post(url, data=body, headers=headers) as response:
                            await response.read()
                        done = await asyncio.wait_for(arrived, LOST_AFTER)
                        latencies.append(done - started)
                    except (TimeoutError, OSError):
                        lost += 1
                        fake.waiting.pop(who, None)

            started = time.perf_counter()
            await asyncio.gather(*(person(i) for i in range(level)))
            elapsed = time.perf_counter() - started
        latencies.sort()
        count = len(latencies)
        return {
            "per_second": count / elapsed,
            "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
            "p99": latencies[max(0, int(count * 0.99) - 1)] * 1000 if latencies else 0.0,
            "over_1s": sum(1 for t in latencies if t > 1.0),
            "lost": lost,
            "conns_per_1000": len(fake.peers) * 1000 / max(1, count),
        }


# ---------------------------------------------------------------- set-up


def sqlite_db(directory: Path) -> str:
    return f"sqlite:///{directory / 'e2e.db'}"


def postgres_db(base: str) -> tuple[str, Callable[[], None]]:
    from urllib.parse import quote

    from sqlalchemy import create_engine, text

    from storage.db import sync_url

    schema = f"ube2e_{secrets.token_hex(3)}"
    engine = create_engine(sync_url(base))
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    joiner = "&" if "?" in base else "?"

    def drop() -> None:
        engine = create_engine(sync_url(base))
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    return f"{base}{joiner}options={quote('-csearch_path=' + schema)}", drop


async def seed(url: str, people: int) -> None:
    from bot.app import build
    from bot.config import Settings
    from storage import migrate
    from storage.demo import load_demo
    from storage.store import Actor, Store
    from tests.crowd import add_people

    migrate.upgrade(url)
    app = build(Settings(database_url=url, env={}))
    async with app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "bench")), congress=False)
    await add_people(app, people, "telegram", lambda no: str(TG_BASE + int(no[1:])))
    await add_people(app, people, "slack", lambda no: "UP" + no[1:], prefix="Q")
    await app.close()


def base_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UNIONBOT_", "SLACK_", "TELEGRAM_", "WECOM_"))
    }


async def start_unionbot(
    url: str, api: str, directory: Path, platforms: tuple[str, ...] = ("telegram", "slack")
) -> Target:
    port = free_port()
    env = base_env()
    if "telegram" in platforms:
        env |= {
            "TELEGRAM_BOT_TOKEN": TG_TOKEN,
            "TELEGRAM_API_URL": api,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.edu.cn/telegram/webhook",
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        }
    if "slack" in platforms:
        env |= {
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SLACK_SECRET,
            "SLACK_API_URL": f"{api}/api/",
        }
    env |= {
        "UNIONBOT_HTTP_PORT": str(port),
        "UNIONBOT_QUIET_HOURS": "00:00-00:00",
        "UNIONBOT_DELIVERY_INTERVAL_SECONDS": "1",
    }
    log = directory / f"unionbot-{port}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            UNIONBOT, "--env-file", "/x", "--db", url, "run", env=env, stderr=sink
        )
    deadline = time.monotonic() + 60
    while f"127.0.0.1:{port}" not in log.read_text(errors="replace"):
        if process.returncode is not None or time.monotonic() > deadline:
            raise SystemExit("unionbot run did not start:\n" + log.read_text(errors="replace"))
        await asyncio.sleep(0.1)
    return Target("unionbot", "both", port, process, log)


async def start_floor(platform: str, url: str, api: str) -> Target:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.e2e",
        "--floor",
        platform,
        "--db",
        url,
        "--api",
        api,
        "--port",
        str(port),
        env=base_env(),
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if b"serving" not in line:
        raise SystemExit(f"the {platform} floor did not start")
    return Target("floor", platform, port, process)


async def stop(target: Target) -> None:
    if target.process is not None and target.process.returncode is None:
        target.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(target.process.wait(), 30)


async def notice_during_burst(url: str, fake: FakeAPI) -> asyncio.Future[float]:
    """Queue an urgent notice for a person outside the crowd; the future gets its arrival."""
    from tests.harness import queue_notice

    arrived = asyncio.get_running_loop().create_future()
    fake.waiting["tg:4242"] = arrived
    # A reason of its own each time: the outbox queues one message per reason and person.
    await queue_notice(url, "telegram", "4242", reason=f"bench:{secrets.token_hex(4)}")
    return arrived


async def backend(
    name: str, url: str, options: argparse.Namespace, fake: FakeAPI, directory: Path
) -> list[str]:
    await seed(url, options.people)
    bot = await start_unionbot(url, fake.url, directory)
    floors = {p: await start_floor(p, url, fake.url) for p in options.platforms}
    writers = Writers(fake, options.people)
    rows: list[str] = []
    notices: list[str] = []
    try:
        for round_no in range(1, options.rounds + 1):
            for platform in options.platforms:
                for level in options.levels:
                    floor = await writers.cell(floors[platform], level, options.updates)
                    ours_target = Target("unionbot", platform, bot.port)
                    notice = None
                    if level == max(options.levels) and platform == "telegram":
                        notice = await notice_during_burst(url, fake)
                        queued = time.perf_counter()
                    ours = await writers.cell(ours_target, level, options.updates)
                    if notice is not None:
                        try:
                            at = await asyncio.wait_for(notice, 30)
                            notices.append(f"{at - queued:.1f} s")
                        except TimeoutError:
                            notices.append("not within 30 s")
                    for who, cell in (("floor", floor), ("unionbot", ours)):
                        ratio = cell["per_second"] / floor["per_second"]
                        rows.append(
                            f"{round_no:>5} {platform:<9}{name:<11}{who:<10}{level:>5}"
                            f"{cell['per_second']:>9.0f}{cell['p50']:>9.1f}{cell['p99']:>9.1f}"
                            f"{int(cell['over_1s']):>8}{int(cell['lost']):>6}"
                            f"{cell['conns_per_1000']:>9.1f}{ratio:>7.2f}"
                        )
                        print(rows[-1], flush=True)
    finally:
        await stop(bot)
        for floor_target in floors.values():
            await stop(floor_target)
    logged = bot.log.read_text(errors="replace") if bot.log else ""
    print(
        f"      {name}: urgent notice queued before each {max(options.levels)}-people burst "
        f"arrived after {', '.join(notices) or '-'}; unionbot's log: "
        f"{logged.count('skipped')} 'skipped', {logged.count('missed by')} 'missed by', "
        f"{logged.count('database is locked')} 'database is locked', "
        f"{logged.count('Traceback')} tracebacks",
        flush=True,
    )
    trouble = [line for line in logged.splitlines() if " WARNING " in line or " ERROR " in line]
    for line in trouble[:5]:
        print(f"      {name} log: {line[:300]}", flush=True)
    if "Traceback" in logged and bot.log is not None:
        kept = Path(tempfile.gettempdir()) / f"e2e-{name}-{bot.port}.log"
        kept.write_text(logged)
        print(f"      {name}: the log with its tracebacks is kept at {kept}", flush=True)
    return rows


async def main(options: argparse.Namespace) -> None:
    fake = FakeAPI()
    await fake.start()
    print(
        f"/whoami over HTTP, {options.updates} updates per cell, {options.rounds} rounds, "
        f"{options.people} linked accounts per platform"
    )
    print(
        f"{'round':>5} {'platform':<9}{'database':<11}{'server':<10}{'at once':>5}"
        f"{'reply/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'over 1s':>8}{'lost':>6}"
        f"{'conn/1k':>9}{'vs floor':>7}"
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await backend("SQLite", sqlite_db(Path(tmp)), options, fake, Path(tmp))
            if options.postgres:
                url, drop = postgres_db(options.postgres)
                try:
                    await backend("PostgreSQL", url, options, fake, Path(tmp))
                finally:
                    drop()
    finally:
        await fake.stop()


# ---------------------------------------------------------------- memory and the long run


def process_figures(pid: int) -> tuple[float, int]:
    """RSS in MB and open file descriptors of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


async def idle(options: argparse.Namespace) -> None:
    """`unionbot run` with only Telegram configured (webhook), after it has settled.
    Target (issue 16): under 120 MB."""
    fake = FakeAPI()
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = sqlite_db(Path(tmp))
            await seed(url, 10)
            bot = await start_unionbot(url, fake.url, Path(tmp), platforms=("telegram",))
            try:
                assert bot.process is not None
                for wait in (0, 5, 10):
                    await asyncio.sleep(wait)
                    rss, fds = process_figures(bot.process.pid)
                    print(f"idle unionbot run (Telegram, SQLite): {rss:.1f} MB RSS, {fds} fds")
            finally:
                await stop(bot)
    finally:
        await fake.stop()


async def soak(options: argparse.Namespace) -> None:
    """N Telegram updates from `--people` accounts, 8 at once, into one `unionbot run`;
    every 5,000 it prints replies/s, p50/p99, RSS and open descriptors, so that growth
    shows as a trend rather than a single figure."""
    fake = FakeAPI()
    await fake.start()
    chunk = 5000
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = sqlite_db(Path(tmp))
            if options.postgres:
                url, drop = postgres_db(options.postgres)
            await seed(url, options.people)
            bot = await start_unionbot(url, fake.url, Path(tmp))
            assert bot.process is not None
            writers = Writers(fake, options.people)
            target = Target("unionbot", "telegram", bot.port)
            rss, fds = process_figures(bot.process.pid)
            print(
                f"{'updates':>8}{'reply/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'lost':>6}"
                f"{'RSS MB':>9}{'fds':>6}"
            )
            print(f"{0:>8}{'':>9}{'':>9}{'':>9}{'':>6}{rss:>9.1f}{fds:>6}", flush=True)
            try:
                done = 0
                while done < options.soak:
                    size = min(chunk, options.soak - done)
                    cell = await writers.cell(target, 8, size)
                    done += size
                    rss, fds = process_figures(bot.process.pid)
                    print(
                        f"{done:>8}{cell['per_second']:>9.0f}{cell['p50']:>9.1f}"
                        f"{cell['p99']:>9.1f}{int(cell['lost']):>6}{rss:>9.1f}{fds:>6}",
                        flush=True,
                    )
            finally:
                await stop(bot)
                if options.postgres:
                    drop()
    finally:
        await fake.stop()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=2000, help="updates per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--levels", default="1,16,64", help="people at once, comma-separated")
    parser.add_argument("--people", type=int, default=200, help="linked accounts per platform")
    parser.add_argument("--platforms", default="telegram,slack")
    parser.add_argument("--postgres", default=os.environ.get("UNIONBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--no-postgres", dest="postgres", action="store_const", const=None)
    parser.add_argument(
        "--idle", action="store_true", help="only the RSS of an idle run with Telegram (issue 16)"
    )
    parser.add_argument(
        "--soak", type=int, metavar="N", help="only a soak of N Telegram updates, 8 at once"
    )
    parser.add_argument("--floor", choices=["telegram", "slack"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    options.levels = [int(n) for n in str(options.levels).split(",") if n.strip()]
    options.platforms = [p for p in str(options.platforms).split(",") if p.strip()]
    return options


if __name__ == "__main__":
    opts = parse()
    if opts.floor == "telegram":
        asyncio.run(floor_telegram(opts.db, opts.api, opts.port))
    elif opts.floor == "slack":
        asyncio.run(floor_slack(opts.db, opts.api, opts.port))
    elif opts.idle:
        asyncio.run(idle(opts))
    elif opts.soak:
        asyncio.run(soak(opts))
    else:
        asyncio.run(main(opts))
