"""The console and the CLI as an operator uses them: real processes, real pipes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from storage import identity, outbox
from storage.db import Database
from storage.store import Actor, Store

UNIONBOT = str(Path(sys.executable).parent / "unionbot")


def run(
    args: list[str], *, stdin: str = "", cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("UNIONBOT_", "SLACK_", "TELEGRAM_"))
    }
    full_env.update(env or {})
    return subprocess.run(
        [UNIONBOT, "--env-file", "/nonexistent", *args],
        input=stdin,
        text=True,
        capture_output=True,
        cwd=cwd,
        env=full_env,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_scripted_console_conversation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert run(["--db", url, "db", "upgrade"]).returncode == 0
    assert run(["--db", url, "demo"]).returncode == 0
    result = run(["--db", url, "console", "--as", "T1001"], stdin="/help\n/whoami\n")
    assert result.returncode == 0, result.stderr
    assert "> /help" in result.stdout and "/whoami" in result.stdout
    assert "张伟" in result.stdout and "计算机与网络工程学院" in result.stdout
    assert "Traceback" not in result.stderr
    english = run(["--db", url, "console", "--as", "T1001", "--lang", "en"], stdin="/whoami\n")
    assert "Staff no." in english.stdout
    unknown = run(["--db", url, "console", "--as", "NOBODY"], stdin="/help\n")
    assert unknown.returncode != 0 and "NOBODY" in unknown.stderr


def test_notifications_reach_the_person_at_the_console(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    run(["--db", url, "db", "upgrade"])
    run(["--db", url, "demo"])
    run(["--db", url, "console", "--as", "T1001"], stdin="/whoami\n")  # links the console identity

    async def enqueue() -> None:
        database = Database(url)
        try:
            async with database.session() as session:
                store = Store(session, Actor(None, "cli"))
                view = await identity.staff_by_no(store, "T1001")
                assert view is not None
                await outbox.enqueue(
                    store,
                    reason="test:hello",
                    recipient_id=view.id,
                    message_key="identity.link.next",
                    why_key="identity.whoami_footer",
                )
        finally:
            await database.dispose()

    asyncio.run(enqueue())
    result = run(["--db", url, "console", "--as", "T1001"], stdin="/lang\n")
    assert result.stdout.count("🔔") == 1, result.stdout
    assert "发送 /help 查看你能用的命令" in result.stdout  # the message
    assert "信息有误请联系所在分工会更新名册" in result.stdout  # why they get it
    again = run(["--db", url, "console", "--as", "T1001"], stdin="/lang\n")
    assert "🔔" not in again.stdout, "a notification is delivered once"


def test_run_with_nothing_configured_starts_the_console_with_demo_data(tmp_path: Path) -> None:
    result = run(
        ["run"], stdin="/whoami\n", cwd=tmp_path, env={"UNIONBOT_HTTP_PORT": str(free_port())}
    )
    assert result.returncode == 0, result.stderr
    assert "演示数据" in result.stderr and "控制台" in result.stderr
    assert "陈静" in result.stdout  # the default console person, D2001
    assert (tmp_path / "unionbot.db").exists()
    second = run(
        ["run", "--as", "T1002"],
        stdin="/whoami\n",
        cwd=tmp_path,
        env={"UNIONBOT_HTTP_PORT": str(free_port())},
    )
    assert "演示数据" not in second.stderr and "李娜" in second.stdout


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["run"],
        ["console"],
        ["demo"],
        ["db"],
        ["db", "upgrade"],
        ["db", "status"],
        ["roster"],
        ["roster", "import"],
        ["invites"],
    ],
)
def test_every_help_page(args: list[str]) -> None:
    result = run([*args, "--help"])
    assert result.returncode == 0 and "Usage:" in result.stdout and len(result.stdout) > 100


def test_secrets_stay_out_of_logs_and_repr() -> None:
    from bot.config import load_settings

    os.environ["SLACK_BOT_TOKEN"] = "xoxb-very-secret"
    try:
        settings = load_settings(None)
    finally:
        del os.environ["SLACK_BOT_TOKEN"]
    assert "xoxb-very-secret" not in repr(settings)
    assert "xoxb-very-secret" not in repr(settings.secret("SLACK_BOT_TOKEN"))
    assert settings.secret("SLACK_BOT_TOKEN").value == "xoxb-very-secret"


def test_a_misconfigured_platform_stops_run_with_the_reason(tmp_path: Path) -> None:
    result = run(
        ["run"],
        cwd=tmp_path,
        env={"SLACK_BOT_TOKEN": "xoxb-abc", "UNIONBOT_HTTP_PORT": str(free_port())},
    )
    assert result.returncode == 1
    assert "SLACK_SIGNING_SECRET" in result.stderr and "Traceback" not in result.stderr
    assert "xoxb-abc" not in result.stderr + result.stdout


def test_deliveries_command_shows_the_queue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    run(["--db", url, "db", "upgrade"])
    result = run(["--db", url, "--lang", "en", "deliveries"])
    assert (
        result.returncode == 0 and "pending" in result.stdout and "Oldest pending" in result.stdout
    )


def test_deliveries_command_names_who_messages_wait_for(tmp_path: Path) -> None:
    """As /deliveries does: the demo's invitations wait for delegates not yet linked."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    run(["--db", url, "db", "upgrade"])
    run(["--db", url, "demo"])
    result = run(["--db", url, "--lang", "en", "deliveries"])
    assert result.returncode == 0, result.stderr
    assert "Waiting for a linked account (7 days): " in result.stdout, result.stdout
    assert "  周婷 (D2102): 1 message" in result.stdout, result.stdout
