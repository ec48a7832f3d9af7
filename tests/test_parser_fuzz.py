"""No input, however malformed, makes the parser or the dispatcher fail."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.args import Arg, Option, integer, parse_date, text
from bot.errors import ArgumentError
from bot.parser import bind, command_words, tokenize
from tests.harness import ConsoleChat

TRICKY = st.sampled_from(
    [
        '"',
        "'",
        "“",
        "”",
        "「",
        "」",
        "/",
        "／",
        "--",
        "—",
        "@",
        "\u3000",
        "\u200f",
        "\x00",
        "\n",
        "提案",
        "列表",
        "whoami",
        "help",
        "=",
        "<!channel>",
        "&lt;",
        "🙂",
        "\ud7ff",
    ]
)
MESSAGES = st.lists(st.one_of(st.text(max_size=12), TRICKY), max_size=12).map("".join)


@given(MESSAGES)
def test_tokenize_and_command_words_never_fail(message: str) -> None:
    tokens = tokenize(message)
    assert all(isinstance(t, str) for t in tokens)
    words = command_words(message)
    assert words is None or all(isinstance(w, str) for w in words)


ARGS = (
    Arg("id", integer(1)),
    Arg("when", parse_date, required=False),
    Arg("rest", text(50), required=False, rest=True),
)
OPTIONS = (Option("due", parse_date), Option("all", flag=True), Option("with", text(30)))


@given(st.lists(st.one_of(st.text(max_size=10), TRICKY), max_size=8))
def test_bind_raises_only_argument_errors(words: list[str]) -> None:
    try:
        values = bind(ARGS, OPTIONS, words)
    except ArgumentError as exc:
        # Which argument is named, unless the reason itself names it ("缺少参数 ID").
        names_it = {"missing", "unexpected", "unknown_option", "option_needs_value"}
        assert (exc.arg is None) == (exc.key.removeprefix("bot.arg.") in names_it), exc.key
        assert exc.arg is None or exc.arg
    else:
        assert isinstance(values["id"], int)


def test_quotes_keep_spaces_together() -> None:
    assert tokenize('/proposal new "食堂 饭菜" “教学 楼” 「a b」') == [
        "/proposal",
        "new",
        "食堂 饭菜",
        "教学 楼",
        "a b",
    ]
    assert tokenize('say "unclosed quote runs') == ["say", "unclosed quote runs"]
    assert command_words("／help@unionbot me") == ["help", "me"]
    assert command_words("   ") is None


def test_options_accept_chinese_dashes() -> None:
    values = bind(ARGS, OPTIONS, ["7", "—due", "2026年12月1日", "--all", "--with=教务处"])
    assert values["id"] == 7 and values["all"] is True and values["with"] == "教务处"
    assert str(values["due"]) == "2026-12-01"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=MESSAGES)
def test_dispatcher_always_answers_without_internal_errors(app: App, message: str) -> None:
    chat = ConsoleChat(app)
    incident = app.catalog.get("zh", "bot.internal_error", incident="").split("（")[0]

    async def go() -> None:
        for who in ("D2001", "A9001"):
            said = await chat.say(who, message)
            assert said.replies, message
            assert incident not in said.text, (message, said.text)
        said = await chat.say_unlinked("fuzz-stranger", message)
        assert said.replies

    asyncio.run(go())
