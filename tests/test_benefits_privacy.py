"""Sensitive records against every person on the demo roster: exactly who may read them,
never in a group, and every read in the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App
from storage.demo import DEMO_ROSTER
from storage.models import AuditEntry
from tests.harness import ConsoleChat

EVERYONE = [row[0] for row in DEMO_ROSTER]
# Demo data: hardship #1 is 李娜 (文学院分工会), #2 is 吴刚 (机关分工会); application #1 is
# 张伟's (计算机学院分工会); a mediation request is filed by 马丽 in the test.
ALLOWED = {
    "/hardship show 1": {"O4001", "O4102", "A9001"},
    "/hardship show 2": {"O4001", "A9001"},
    "/application show 1": {"T1001", "O4001", "O4101", "A9001"},
    "/mediation show 1": {"O4001", "A9001"},
}
SECRETS = {
    "/hardship show 1": "配偶长期患病",
    "/hardship show 2": "火灾",
    "/application show 1": "阑尾炎",
    "/mediation show 1": "加班费",
}


@pytest.mark.parametrize("command", list(ALLOWED))
async def test_exactly_who_may_read_each_sensitive_record(app: App, command: str) -> None:
    chat = ConsoleChat(app)
    await chat.say("H5001", "/mediation request 与部门就加班费有争议")
    readers = set()
    for who in EVERYONE:
        said = await chat.say(who, command)
        if SECRETS[command] in said.text:
            readers.add(who)
        else:
            assert said.error, (who, said.text)
    assert readers == ALLOWED[command]
    async with app.database.session() as session:
        actions = [a.action for a in await session.scalars(select(AuditEntry))]
    kind = command.split()[0].strip("/")
    read = {
        "hardship": "hardship.read",
        "application": "benefit.read",
        "mediation": "mediation.read",
    }
    assert actions.count(read[kind]) == len(ALLOWED[command])


async def test_asked_in_a_group_the_answer_is_private(app: App) -> None:
    chat = ConsoleChat(app)
    said = await chat.say("O4001", "/hardship show 1", group=True)
    assert any(reply.private for reply in said.replies if "配偶" in reply.plain())
    assert not any("配偶" in reply.plain() for reply in said.replies if not reply.private)
    refused = await chat.say("T1001", "/hardship report 不想在群里说", group=True)
    assert refused.error


async def test_a_persons_own_data_for_the_right_of_access(any_app: App) -> None:
    from storage import privacy
    from storage.store import Actor, Store

    chat = ConsoleChat(any_app)
    await chat.say("T1002", "/join")  # refused (a member already), still nothing of others
    await chat.say("T1002", "/hardship report 房租上涨")
    async with any_app.database.session() as session:
        data = await privacy.export(Store(session, Actor(None, "cli", "test")), "T1002")
        assert await privacy.export(Store(session), "NOBODY") is None
    assert data is not None
    assert data["staff"]["staff_no"] == "T1002" and "form_state" not in data["staff"]
    assert [a["item"] for a in data["benefit_applications"]] == ["childbirth"]
    assert "房租上涨" in data["hardship"][0]["causes"]
    assert data["exams"] and all(e["staff_id"] == data["staff"]["id"] for e in data["exams"])
    assert any(e["action"] == "hardship.report" for e in data["audit_log_about_me"])
    async with any_app.database.session() as session:
        exported = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "privacy.export")
        )
    assert exported is not None


def test_privacy_export_writes_a_private_file(tmp_path: Path) -> None:
    import json

    from tests.test_console_cli import run

    db = f"sqlite:///{tmp_path / 'p.db'}"
    assert run(["--db", db, "db", "upgrade"]).returncode == 0
    assert run(["--db", db, "demo"]).returncode == 0
    out = tmp_path / "me.json"
    done = run(["--db", db, "privacy", "export", "D2002", "--out", str(out)])
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o077 == 0
    assert (
        json.loads(out.read_text(encoding="utf-8"))["benefit_applications"][0]["status"] == "paid"
    )
    assert run(["--db", db, "privacy", "export", "NOBODY"]).returncode == 1
