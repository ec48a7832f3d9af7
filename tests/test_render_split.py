"""Long replies are split, not cut: every part is valid markup within the platform's limit,
and the parts' visible text joined is the original."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.render import SECTION_LIMIT, blocks, fallback_text
from bot.adapters.telegram.render import MAX_TEXT, parts, runs
from bot.render.split import clip, pieces, utf16_units
from bot.replies import Reply


class _Visible(HTMLParser):
    """Telegram's view of a message: its text, and whether its tags are balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ("b", "i"), tag
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible(markup: str) -> str:
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    assert not parser.open, f"left open: {parser.open}"
    return "".join(parser.text)


TRICKY = ["&", "<", ">", "&amp;", "<b>", "</i>", "&lt;", "食堂", "理由", "\n", "\n\n", " ", "😀"]
text_ = st.lists(
    st.one_of(st.sampled_from(TRICKY), st.text(min_size=1, max_size=30)), max_size=60
).map("".join)
long_run = st.integers(min_value=1, max_value=9000).map(lambda n: "理" * n)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    body = draw(st.one_of(text_, long_run, st.lists(text_, max_size=5).map("\n\n".join)))
    return Reply(
        text=body * draw(st.integers(min_value=1, max_value=40)),
        title=draw(st.none() | text_),
        fields=draw(st.lists(st.tuples(text_, text_), max_size=4)),
        items=draw(st.lists(text_, max_size=4)),
        footer=draw(st.none() | text_),
        error=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(replies())
def test_telegram_parts_parse_and_join_to_the_original(reply: Reply) -> None:
    original = "".join(text for _, text in runs(reply))
    messages = parts(reply)
    seen = []
    for part in messages:
        shown = visible(part.html)
        assert shown == part.text
        assert sum(map(utf16_units, shown)) <= MAX_TEXT
        seen.append(shown)
    assert "".join(seen) == original


@settings(max_examples=150, deadline=None)
@given(replies())
def test_slack_sections_stay_within_limits_and_keep_all_text(reply: Reply) -> None:
    out = blocks(reply)
    assert len(out) <= 50
    sections = [b["text"]["text"] for b in out if b["type"] == "section" and "text" in b]
    assert all(len(s) <= SECTION_LIMIT for s in sections)
    joined = html.unescape("".join(sections)).replace(":warning: ", "")
    if len(reply.text) < 90_000:  # what fits in one Slack message is kept whole
        assert reply.text in joined
    assert len(fallback_text(reply)) <= 40_000


def test_a_long_reason_without_line_breaks_keeps_its_body() -> None:
    """4,200 characters with no line break: two messages, nothing dropped."""
    reason = "理由" * 2100 + "&<b>"
    reply = Reply(title="案由", fields=[("理由", reason)], footer="/proposal show 1")
    messages = parts(reply)
    assert len(messages) == 2
    assert "".join(p.text for p in messages).count("理由") == 2101
    assert all(visible(p.html) == p.text for p in messages)
    assert messages[-1].html.endswith("&amp;&lt;b&gt;\n\n<i>/proposal show 1</i>")


def test_splits_prefer_paragraphs_then_lines() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + "\n" + "c" * 30
    assert pieces(text, 100) == ["a" * 60 + "\n\n", "b" * 30 + "\n" + "c" * 30]
    assert pieces("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"
