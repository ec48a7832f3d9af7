"""Sensitive records against every person on the demo roster: exactly who may read them,
never in a group, and every read in the audit log."""

from __future__ import annotations

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
