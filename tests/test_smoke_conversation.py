from __future__ import annotations

from tests.harness import ConsoleChat


async def test_whoami_shows_own_record(any_chat: ConsoleChat) -> None:
    said = await any_chat.say("D2001", "/whoami")
    assert "陈静" in said and "第一代表团" in said
    assert not said.error


async def test_aliases_are_the_same_command(chat: ConsoleChat) -> None:
    a = await chat.say("T1001", "/whoami")
    b = await chat.say("T1001", "我的信息")
    c = await chat.say("T1001", "whoami")
    assert a.text == b.text == c.text
