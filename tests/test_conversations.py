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


async def test_a_proposal_from_draft_to_review(conversation: Chat) -> None:
    opened = await conversation.say(
        "O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31'
    )
    assert not opened.error, opened.text
    await conversation.say("D2001", "/proposal new")
    for answer in ("食堂价格", "价格上涨", "公示成本", "3", "-"):
        said = await conversation.say("D2001", answer)
    assert "#1" in said
    await conversation.say("D2001", "/proposal invite 1 D2002 D2003")
    invitation = await conversation.inbox("D2002")
    assert invitation and "/proposal second 1" in [c.command for c in invitation[0].choices]
    for who in ("D2002", "D2003"):
        await conversation.say(who, "附议 1")
    assert "已提交" in await conversation.say("D2001", "提案 提交 1")
    accepted = await conversation.say("C3001", "审查 1 立案")
    assert "-001" in accepted
    denied = await conversation.say("T1001", "/review 1 accept")
    assert denied.error
