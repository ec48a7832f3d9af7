"""Memory of a real `unionbot run` under a flood of oversized requests from a stranger.

Starts `unionbot run` (Slack HTTP mode and the Telegram webhook on one port, a temporary
SQLite database, fake platform APIs on loopback), sends N POSTs to /slack/events that
declare a 50 MB body and send 64 kB of it, and prints the process's resident memory before,
at its peak, and after, with the time taken and the answers.

    python -m benchmarks.edge_flood [--requests 1000] [--concurrency 50]

Target (issue 19): 1,000 oversized requests in 10 s leave the process within 20 MB of
where it started, measured after they end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from tests.drivers.slack import slack_env
from tests.drivers.telegram import telegram_env
from tests.fake_slack import FakeSlack
from tests.fake_telegram import FakeTelegram
from tests.loopback import wait_for_port

UNIONBOT = str(Path(sys.executable).parent / "unionbot")
BIG = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n" + b"x" * 65536


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def one(port: int) -> str:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(BIG)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
        return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"
    except (ConnectionError, TimeoutError):
        return "reset"


async def main(requests: int, concurrency: int) -> None:
    fake_slack, fake_telegram = FakeSlack(), FakeTelegram()
    await fake_slack.start()
    await fake_telegram.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UNIONBOT_", "SLACK_", "TELEGRAM_"))
    }
    env |= (
        slack_env(fake_slack.url)
        | telegram_env(fake_telegram.url)
        | {"UNIONBOT_HTTP_PORT": str(port)}
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/flood.db"
        for args in (["db", "upgrade"], ["demo"]):
            setup = await asyncio.create_subprocess_exec(
                UNIONBOT,
                "--env-file",
                "/x",
                "--db",
                url,
                *args,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
            )
            await setup.wait()
        log = Path(tmp) / "run.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                UNIONBOT, "--env-file", "/x", "--db", url, "run", env=env, stderr=sink
            )
        try:
            await wait_for_port(port)
            while f"127.0.0.1:{port}" not in log.read_text(errors="replace"):
                await asyncio.sleep(0.05)
            for _ in range(20):
                await one(port)
            await asyncio.sleep(0.5)
            before = rss_mb(process.pid)
            peak = before
            gate = asyncio.Semaphore(concurrency)

            async def guarded() -> str:
                async with gate:
                    return await one(port)

            async def watch() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, rss_mb(process.pid))
                    await asyncio.sleep(0.05)

            watcher = asyncio.create_task(watch())
            started = time.perf_counter()
            answers = await asyncio.gather(*(guarded() for _ in range(requests)))
            took = time.perf_counter() - started
            watcher.cancel()
            await asyncio.sleep(1.0)
            after = rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
            await fake_slack.stop()
            await fake_telegram.stop()
    counts = collections.Counter(answers)
    print(f"{requests} oversized requests, {concurrency} at once, in {took:.1f} s: {dict(counts)}")
    print(
        f"RSS before {before:.1f} MB, peak {peak:.1f} MB, after {after:.1f} MB "
        f"(after - before: {after - before:+.1f} MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.concurrency))
