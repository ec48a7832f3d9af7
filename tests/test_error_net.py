"""One error net: every refusal of the union's rules, raised through a real command,
becomes a reply in the person's language, never an incident."""

from __future__ import annotations

import pytest

from bot.app import App
from storage.errors import InvalidTransition, LinkRefused, MeetingError, ProposalError
from tests.harness import ConsoleChat

OPEN = '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31'
FILE = ["/proposal new", "食堂", "理由", "办法", "3", "-"]

# error class -> (who, what they type after the setup, what the reply says in zh / en)
CASES = {
    ProposalError: (
        "D2001",
        "/proposal submit 999",
        "没有找到编号 #999 的提案",
        "No proposal #999",
    ),
    InvalidTransition: ("D2001", "/proposal rate 1 满意", "此状态下可以", "In this state you can"),
    MeetingError: ("D2001", "/meeting show 999", "999", "No meeting #999"),
    LinkRefused: (None, "/link ABCD-EFGH", "邀请码不对", "invite code is not right"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(CASES), ids=lambda k: k.__name__)
async def test_each_domain_error_is_a_translated_reply(app: App, kind: type, lang: str) -> None:
    who, text, zh, en = CASES[kind]
    chat = ConsoleChat(app, language=lang)
    await chat.say("O4001", OPEN)
    for line in FILE:
        await chat.say("D2001", line)
    said = await chat.say(who, text) if who else await chat.say_unlinked("U-new", text)
    assert said.error, said.text
    assert (zh if lang == "zh" else en) in said.text, said.text
    for leak in ("incident", "事件编号", "proposals.", "meetings.", "identity."):
        assert leak not in said.text, said.text


async def test_a_refusal_keeps_what_was_written_before_it(app: App) -> None:
    """Wrong codes count toward the throttle although each one is refused."""
    chat = ConsoleChat(app)
    for _ in range(5):
        await chat.say_unlinked("U-guess", "/link ABCD-EFGH")
    said = await chat.say_unlinked("U-guess", "/link ABCD-EFGH")
    assert said.error and "分钟" in said.text


async def test_no_handler_carries_an_error_decorator() -> None:
    from pathlib import Path

    for path in Path("commands").glob("*.py"):
        assert "domain_errors" not in path.read_text(), path
