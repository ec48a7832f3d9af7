"""Conversations that every adapter must hold the same way (see `DRIVERS` in conftest)."""

from __future__ import annotations

from tests.harness import Chat


async def test_whoami_in_both_languages(conversation: Chat) -> None:
    said = await conversation.say("D2001", "/whoami")
    assert "陈静" in said and "D2001" in said
    await conversation.say("D2001", "/lang en")
    said = await conversation.say("D2001", "我的信息")
    assert "Staff no." in said


async def test_unknown_command_suggests(conversation: Chat) -> None:
    said = await conversation.say("T1001", "/whoamii")
    assert said.error and "/whoami" in said


async def test_wrong_argument_shows_usage(conversation: Chat) -> None:
    said = await conversation.say("T1001", "/lang klingon")
    assert said.error and "/lang" in said and "zh" in said
