"""Invite codes and linking: single use, expiry, revocation, throttling, several platforms."""

from __future__ import annotations

import csv
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app import App
from storage import linking
from storage.models import AuditEntry
from storage.store import Actor, Store
from tests.cli import unionbot
from tests.harness import ConsoleChat


async def issue(app: App, *staff_nos: str, ttl: timedelta = timedelta(days=1)) -> list[str]:
    async with app.database.session() as session:
        issued, unknown = await linking.issue_codes(
            Store(session, Actor(None, "cli")), list(staff_nos), ttl
        )
    assert not unknown
    return [item.code for item in issued]


async def actions(app: App) -> list[str]:
    async with app.database.session() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_link_then_whoami_and_single_use(any_app: App) -> None:
    chat = ConsoleChat(any_app)
    (code,) = await issue(any_app, "D2002")
    said = await chat.say_unlinked("tg-1", f"/link {code.lower().replace('-', ' ')}")
    assert "绑定成功" in said and "刘洋" in said, said.text
    said = await chat.say_unlinked("tg-1", "/whoami")
    assert "D2002" in said
    again = await chat.say_unlinked("tg-2", f"/link {code}")
    assert again.error and "用过" in again
    assert "identity.link" in await actions(any_app)


async def test_start_with_code_links_too(chat: ConsoleChat) -> None:
    (code,) = await issue(chat.app, "T1002")
    said = await chat.say_unlinked("tg-9", f"/start {code}")
    assert "李娜" in said
    said = await chat.say_unlinked("tg-9", "/start")
    assert "欢迎回来" in said


async def test_expired_and_revoked_codes_are_refused(chat: ConsoleChat) -> None:
    (expired,) = await issue(chat.app, "T1001", ttl=timedelta(seconds=-1))
    said = await chat.say_unlinked("u-1", f"/link {expired}")
    assert said.error and "过期" in said
    (old,) = await issue(chat.app, "T1002")
    (new,) = await issue(chat.app, "T1002")
    said = await chat.say_unlinked("u-2", f"/link {old}")
    assert said.error and "过期" in said  # a newer code replaces the unused older one
    assert "李娜" in await chat.say_unlinked("u-2", f"/link {new}")


async def test_wrong_codes_are_throttled(chat: ConsoleChat) -> None:
    (good,) = await issue(chat.app, "T1001")
    for _ in range(5):
        said = await chat.say_unlinked("guesser", "/link AAAA-BBBB")
        assert said.error and "不对" in said
    said = await chat.say_unlinked("guesser", f"/link {good}")
    assert said.error and "分钟后再试" in said, "a good code is refused while throttled"
    other = await chat.say_unlinked("someone-else", f"/link {good}")
    assert "张伟" in other, "throttling is per chat identity"
    log = await actions(chat.app)
    assert log.count("identity.link_failed") == 5 and "identity.link_throttled" in log


async def test_link_in_a_group_is_refused(chat: ConsoleChat) -> None:
    (code,) = await issue(chat.app, "T1001")
    message = chat.message("grp-user", f"/link {code}", group=True, platform="test")
    outcome = await chat.app.dispatcher.handle(message)
    assert outcome.replies[0].error and "私聊" in outcome.replies[0].text


async def test_one_person_on_two_platforms(chat: ConsoleChat) -> None:
    (first,) = await issue(chat.app, "C3001")
    assert "郑红" in await chat.say_unlinked("same-id", f"/link {first}", platform="slack")
    (second,) = await issue(chat.app, "C3001")
    assert "郑红" in await chat.say_unlinked("same-id", f"/link {second}", platform="telegram")
    said = await chat.say_unlinked("same-id", "/whoami", platform="telegram")
    assert "Slack" in said and "Telegram" in said


def test_invites_cli_prints_and_writes_private_csv(sqlite_url: str, tmp_path: Path) -> None:
    unionbot(sqlite_url, "demo")
    printed = unionbot(sqlite_url, "invites", "T1001", "NOPE")
    assert printed.exit_code == 1
    assert "T1001\t张伟\t" in printed.output and "NOPE" in printed.output
    out = tmp_path / "codes.csv"
    written = unionbot(sqlite_url, "invites", "--all", "--out", str(out))
    assert written.exit_code == 0, written.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 18 and all(len(linking.normalise_code(r["code"])) == 8 for r in rows)
    assert unionbot(sqlite_url, "invites").exit_code == 2
