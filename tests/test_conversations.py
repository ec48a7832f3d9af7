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


async def test_a_proposal_from_draft_to_closed(conversation: Chat) -> None:
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
    assert "已交办" in await conversation.say("O4001", "交办 1 后勤管理处 --due 2099-01-01")
    assignment = await conversation.inbox("H5001")
    assert any("已交办" in n.text for n in assignment)
    assert (await conversation.say("H5002", "/reply 1 A 不是我们办")).error
    assert "已答复" in await conversation.say("H5001", "答复 1 B 已列入明年计划")
    asked = [n for n in await conversation.inbox("D2001") if n.choices]
    assert asked[-1].choices[-1].command == "/proposal rate 1 unsatisfied"
    assert "退回" in await conversation.say("D2001", "评价 1 不满意 还没有公示")
    assert "已答复" in await conversation.say("H5001", "/reply 1 A 已公示")
    assert "已办结" in await conversation.say("D2001", "/proposal rate 1 satisfied")
