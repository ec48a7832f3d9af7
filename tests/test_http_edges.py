"""A stranger's junk against a real `unionbot run` (Slack HTTP mode and the Telegram webhook
on one port, a temporary SQLite database): every case gets a 4xx and one log line, never a
500 or a traceback, and the process keeps its memory and keeps answering."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests.drivers.slack import SIGNING_SECRET, slack_env
from tests.drivers.telegram import telegram_env
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.loopback import wait_for_port
from tests.test_console_cli import UNIONBOT, free_port

SECRET = "webhook-secret-123"


def signed(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


@dataclass
class Bot:
    port: int
    pid: int
    log: Path
    fake_telegram: FakeTelegram

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    async def raw(self, data: bytes, *, wait: float = 5.0) -> int | None:
        """Send raw bytes; the response's status, or None if the server just closed."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(data)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), wait)
        except (ConnectionError, TimeoutError):
            return None
        finally:
            writer.close()
            await asyncio.gather(writer.wait_closed(), return_exceptions=True)
        return int(line.split()[1]) if line.startswith(b"HTTP/") else None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        async with (
            ClientSession() as client,
            client.post(f"http://127.0.0.1:{self.port}{path}", data=body, headers=headers) as r,
        ):
            await r.read()
            return r.status

    async def slack(self, body: bytes, content_type: str = "application/json", **kw: str) -> int:
        return await self.post(
            "/slack/events", body, {"Content-Type": content_type, **signed(body), **kw}
        )

    async def telegram(self, body: bytes, secret: str = SECRET, **kw: str) -> int:
        headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
        return await self.post("/telegram/webhook", body, headers | kw)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    fake_slack, fake_telegram = FakeSlack(), FakeTelegram()
    await fake_slack.start()
    await fake_telegram.start()
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UNIONBOT_", "TELEGRAM_", "SLACK_"))
    }
    env |= slack_env(fake_slack.url) | telegram_env(fake_telegram.url)
    env |= {
        "UNIONBOT_HTTP_PORT": str(port),
        "UNIONBOT_HTTP_HEADER_TIMEOUT": "1",
        "UNIONBOT_HTTP_BODY_TIMEOUT": "1",
    }
    url = f"sqlite:///{tmp_path / 'edge.db'}"
    for args in (["db", "upgrade"], ["demo"]):
        setup = await asyncio.create_subprocess_exec(
            UNIONBOT, "--env-file", "/x", "--db", url, *args, env=env
        )
        assert await setup.wait() == 0
    log = tmp_path / "run.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            UNIONBOT, "--env-file", "/x", "--db", url, "run", env=env, stderr=sink
        )
    try:
        await wait_for_port(port)
        for _ in range(300):  # the serving line names the port: then every adapter is up
            if f"127.0.0.1:{port}" in log.read_text() or process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert process.returncode is None, log.read_text()
        yield Bot(port, process.pid, log, fake_telegram)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)
        await fake_slack.stop()
        await fake_telegram.stop()


def new_lines(bot: Bot, mark: int) -> list[str]:
    return [line for line in bot.log_text()[mark:].splitlines() if line.strip()]


async def one_refusal(bot: Bot, send: object, status: int | None) -> None:
    """`send` is answered with `status` and logged as exactly one WARNING line."""
    mark = len(bot.log_text())
    assert await send == status  # type: ignore[misc]
    await asyncio.sleep(0.05)
    lines = new_lines(bot, mark)
    assert len(lines) == 1 and " WARNING " in lines[0], lines


async def test_slack_refuses_before_parsing(bot: Bot) -> None:
    event = json.dumps({"type": "event_callback", "event_id": "Ev1", "event": {}}).encode()
    unsigned = {"Content-Type": "application/json"}
    await one_refusal(bot, bot.post("/slack/events", event, unsigned), 401)
    stale = signed(event, timestamp=int(time.time()) - 600)
    await one_refusal(bot, bot.post("/slack/events", event, unsigned | stale), 401)
    # Junk without a signature is never parsed: 401, whatever it is.
    await one_refusal(bot, bot.post("/slack/events", b"[" * 100_000, unsigned), 401)
    # Junk with a good signature (the signing secret leaked, or Slack misbehaving): 400.
    for junk in (b"{not json", b"[1]", b"null", b"42", b"[" * 100_000, b"\xff\xfe\x00"):
        await one_refusal(bot, bot.slack(junk), 400)
    form = "application/x-www-form-urlencoded"
    await one_refusal(bot, bot.slack(b"payload=notjson", form), 400)
    await one_refusal(bot, bot.slack(b"payload=%5B1%5D", form), 400)
    bogus = b'{"type": "event_callback"}'
    await one_refusal(bot, bot.slack(bogus + b"\xff", "application/json; charset=klingon"), 400)


async def test_telegram_refuses_junk_with_the_right_secret(bot: Bot) -> None:
    await one_refusal(bot, bot.telegram(b'{"update_id": 1}', secret="wrong"), 403)
    for junk in (
        b"[1]",
        b'"x"',
        b"null",
        b'{"update_id": 5, "message": "x"}',
        b'{"update_id": "5"}',
        b"[" * 100_000,
        b"\xff\xfe",
    ):
        await one_refusal(bot, bot.telegram(junk), 400)
    await one_refusal(
        bot, bot.telegram(b"{}", **{"Content-Type": "application/json; charset=bogus"}), 400
    )


def request(path: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body


async def test_bounded_bodies_and_timeouts(bot: Bot) -> None:
    big = request("/slack/events", "Content-Length: 52428800\r\n", b"x" * 1000)
    await one_refusal(bot, bot.raw(big), 413)
    tg = request(
        "/telegram/webhook",
        f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 2000000\r\n",
        b"{",
    )
    await one_refusal(bot, bot.raw(tg), 413)
    # No Content-Length: read up to the bound and no further.
    chunk = b"x" * 65536
    chunked = request(
        "/slack/events",
        "Transfer-Encoding: chunked\r\n",
        b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(20)),
    )
    await one_refusal(bot, bot.raw(chunked), 413)
    # A Content-Length that lies: the body timeout answers, the connection closes.
    liar = request("/slack/events", "Content-Length: 1000\r\n", b"{}")
    await one_refusal(bot, bot.raw(liar), 408)
    # A client that hangs up mid-body is not an error: no line at all above DEBUG.
    mark = len(bot.log_text())
    _reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    writer.write(liar)
    await writer.drain()
    writer.close()
    await asyncio.sleep(1.5)
    assert new_lines(bot, mark) == []
    # Slow headers, 200 connections at once: every one closed by the header timeout.
    started = time.monotonic()
    statuses = await asyncio.gather(
        *(bot.raw(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n", wait=5) for _ in range(200))
    )
    assert statuses == [None] * 200 and time.monotonic() - started < 4


async def test_protocol_junk_is_one_line_each(bot: Bot) -> None:
    cases = [
        request("/slack/events", "Content-Length: -5\r\n"),
        request("/slack/events", "Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"),
        request("/slack/events", "Transfer-Encoding: chunked\r\n", b"zz\r\nhello\r\n0\r\n\r\n"),
        request("/slack/events", "X-Big: " + "a" * 100_000 + "\r\n"),
    ]
    for case in cases:
        mark = len(bot.log_text())
        status = await bot.raw(case)
        assert status in (400, 413, 431, None), status
        await asyncio.sleep(0.05)
        lines = new_lines(bot, mark)
        assert len(lines) <= 1 and all(" WARNING " in line for line in lines), lines


async def test_a_flood_of_oversized_requests_leaves_memory_where_it_was(bot: Bot) -> None:
    big = request("/slack/events", "Content-Length: 52428800\r\n", b"x" * 65536)
    for _ in range(20):  # warm up the paths once, so their code is loaded and counted
        await bot.raw(big)
    await asyncio.sleep(0.5)
    before = bot.rss_kib()
    gate = asyncio.Semaphore(50)

    async def one() -> int | None:
        async with gate:
            return await bot.raw(big)

    started = time.monotonic()
    statuses = await asyncio.gather(*(one() for _ in range(1000)))
    took = time.monotonic() - started
    await asyncio.sleep(1.0)
    after = bot.rss_kib()
    assert statuses.count(413) >= 990, set(statuses)
    assert took < 10, f"1,000 refusals took {took:.1f} s"
    assert after - before < 20 * 1024, f"grew {(after - before) / 1024:.1f} MB"


async def test_after_all_that_the_bot_still_answers_and_logged_no_traceback(bot: Bot) -> None:
    await bot.slack(b"[1]")
    await bot.telegram(b"null")
    await bot.raw(request("/slack/events", "Content-Length: -1\r\n"))
    update = {
        "update_id": 77,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 4242, "type": "private"},
            "text": "/help",
            "from": {"id": 4242, "is_bot": False, "first_name": "某人"},
        },
    }
    assert await bot.telegram(json.dumps(update).encode()) == 200
    assert bot.fake_telegram.sent(4242), "a stranger still gets the how-to-link answer"
    text = bot.log_text()
    assert "Traceback" not in text and " ERROR " not in text, text


async def test_a_body_that_turns_bad_halfway_is_refused(bot: Bot) -> None:
    mark = len(bot.log_text())
    reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
    writer.write(request("/slack/events", "Transfer-Encoding: chunked\r\n", b"5\r\nhello\r\n"))
    await writer.drain()
    await asyncio.sleep(0.3)  # the handler is reading the body by now
    writer.write(b"zz\r\nnot a chunk\r\n")
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    # 400 where the parser says so at once, else the body timeout's 408: never a 500.
    assert line.startswith((b"HTTP/1.1 400", b"HTTP/1.1 408")), line
    await asyncio.sleep(0.05)
    lines = new_lines(bot, mark)
    assert len(lines) == 1 and " WARNING " in lines[0], lines
