"""Neutral replies as WeCom messages: markdown (or plain text) in pieces of at most 2,048
bytes, and a `button_interaction` template card for a reply's choices.

WeCom counts a message's content in UTF-8 bytes and cuts what is over; a long reply is
therefore split on its visible text (after a paragraph, a line, a space) and each piece
marked up on its own, as for Telegram. A card holds a title, a short text and up to six
buttons; a reply that does not fit whole (nothing of it is cut away on a card) is sent as
text first, and the card then carries its first line and the buttons.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.render.escape import wecom_markdown as esc
from bot.render.runs import Run, runs
from bot.render.split import clip, cut_points
from bot.replies import Reply

MAX_BYTES = 2048  # of a text or markdown message's content
CARD_TITLE = 26  # characters WeCom shows of a card's main title
CARD_TEXT = 112  # characters of its sub-title text
BUTTON_TEXT = 10  # characters of a button
MAX_BUTTONS = 6
KEY_BYTES = 1024  # of a button's key
TOKEN_PREFIX = "t:"  # then a stored token for a command too long for the key
STYLES = {"primary": 1, "default": 2, "danger": 3}


def utf8_bytes(ch: str) -> int:
    return len(ch.encode())


def _markdown(pieces: list[Run], start: int, end: int) -> str:
    """The markdown of the visible characters start..end: bold is **, a footer grey."""
    out: list[str] = []
    offset = 0
    for tag, text in pieces:
        base, offset = offset, offset + len(text)
        lo, hi = max(start, base), min(end, offset)
        if lo >= hi:
            continue
        chunk = text[lo - base : hi - base]
        core = chunk.strip()
        if tag is None or not core:
            out.append(esc(chunk))
            continue
        lead, trail = chunk[: len(chunk) - len(chunk.lstrip())], chunk[len(chunk.rstrip()) :]
        marked = f"**{esc(core)}**" if tag == "b" else f'<font color="comment">{esc(core)}</font>'
        out.append(lead + marked + trail)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Message:
    """One message of a reply: its `message/send` fields, and the plain-text form of a
    markdown one for a client or an API that will not take markdown."""

    body: dict[str, Any]
    fallback: dict[str, Any] | None = None


def text_messages(reply: Reply, *, markdown: bool) -> list[Message]:
    pieces = runs(reply)
    visible = "".join(text for _, text in pieces)
    limit = MAX_BYTES
    while True:
        bounds = [0, *cut_points(visible, limit, utf8_bytes), len(visible)]
        ranges = list(pairwise(bounds))
        if not markdown:
            return [
                Message({"msgtype": "text", "text": {"content": visible[a:b]}}) for a, b in ranges
            ]
        rendered = [_markdown(pieces, a, b) for a, b in ranges]
        if all(len(part.encode()) <= MAX_BYTES for part in rendered) or limit < 256:
            return [
                Message(
                    {"msgtype": "markdown", "markdown": {"content": part}},
                    {"msgtype": "text", "text": {"content": visible[a:b]}},
                )
                for part, (a, b) in zip(rendered, ranges, strict=True)
            ]
        limit = limit * 3 // 4  # the markup made a piece too long: smaller pieces


async def button_key(command: str, token_for: Callable[[str], Awaitable[str]]) -> str:
    """A command that fits travels in the key itself (pressing it is typing it, and the
    press comes back signed); a longer one as a stored token."""
    if fits_key(command):
        return command
    return TOKEN_PREFIX + await token_for(command)


def fits_key(command: str) -> bool:
    return not command.startswith(TOKEN_PREFIX) and 0 < len(command.encode()) <= KEY_BYTES


def task_id() -> str:
    """Unique within the app, as WeCom requires: letters, digits and _-@, at most 128."""
    return "ub-" + secrets.token_hex(12)


async def messages(
    reply: Reply, *, markdown: bool, token_for: Callable[[str], Awaitable[str]]
) -> list[Message]:
    """Every message a reply becomes, in order: its text (unless the card holds it all),
    then a card per six choices. An attachment is the adapter's: it needs an upload."""
    if not reply.choices:
        return text_messages(reply, markdown=markdown)
    visible = "".join(text for _, text in runs(reply))
    if reply.title:
        title, rest = reply.title, visible.removeprefix(reply.title)
    else:
        title, _, rest = visible.partition("\n")
    rest = "\n".join(line for line in rest.strip().split("\n") if line.strip())
    fits = len(title) <= CARD_TITLE and len(rest) <= CARD_TEXT
    out = [] if fits else text_messages(reply, markdown=markdown)
    for start in range(0, len(reply.choices), MAX_BUTTONS):
        group = reply.choices[start : start + MAX_BUTTONS]
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "main_title": {"title": clip(title, CARD_TITLE, len) or "…"},
            "task_id": task_id(),
            "button_list": [
                {
                    "text": clip(choice.label, BUTTON_TEXT, len),
                    "style": STYLES.get(choice.style, 2),
                    "key": await button_key(choice.command, token_for),
                }
                for choice in group
            ],
        }
        if fits and rest and start == 0:
            card["sub_title_text"] = rest
        out.append(Message({"msgtype": "template_card", "template_card": card}))
    return out
