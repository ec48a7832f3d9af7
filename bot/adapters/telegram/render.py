"""Neutral replies as Telegram HTML with inline keyboards; every piece of user text escaped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import pairwise

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render.escape import telegram_html as esc
from bot.render.runs import Run, runs
from bot.render.split import cut_points
from bot.replies import Reply

MAX_TEXT = 4096  # visible characters (UTF-16 units) of one message, after entity parsing
MAX_CAPTION = 1024
CALLBACK_PREFIX = "c:"  # then a stored token for the command
INLINE_PREFIX = "/"  # a command short enough to travel in the button itself
CALLBACK_LIMIT = 64  # bytes of callback_data


def render_range(pieces: list[Run], start: int, end: int) -> str:
    """The HTML of the visible characters start..end of `pieces`; every tag closed."""
    out: list[str] = []
    offset = 0
    for tag, text in pieces:
        base, offset = offset, offset + len(text)
        lo, hi = max(start, base), min(end, offset)
        if lo < hi:
            chunk = esc(text[lo - base : hi - base])
            out.append(f"<{tag}>{chunk}</{tag}>" if tag else chunk)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Part:
    """One message of a reply: its HTML, and the same visible text without markup."""

    html: str
    text: str


def split(pieces: list[Run], limit: int = MAX_TEXT) -> list[Part]:
    """The runs as one or more messages of valid HTML, none over `limit` visible units;
    their visible text joined is exactly the original."""
    visible = "".join(text for _, text in pieces)
    bounds = [0, *cut_points(visible, limit), len(visible)]
    return [Part(render_range(pieces, a, b), visible[a:b]) for a, b in pairwise(bounds)]


def parts(reply: Reply, limit: int = MAX_TEXT) -> list[Part]:
    """The messages a reply becomes: usually one; a long one is split, never cut."""
    return split(runs(reply), limit)


def fits_inline(command: str) -> bool:
    return command.startswith(INLINE_PREFIX) and len(command.encode()) <= CALLBACK_LIMIT


async def callback_data(command: str, token_for: Callable[[str], Awaitable[str]]) -> str:
    if fits_inline(command):
        return command
    return CALLBACK_PREFIX + await token_for(command)


async def keyboard(
    reply: Reply, token_for: Callable[[str], Awaitable[str]]
) -> InlineKeyboardMarkup | None:
    """Buttons two to a row. A command that fits in Telegram's 64 bytes travels in the
    button (pressing it is typing it, so nothing is lost by showing it), which needs no
    database write to send; a longer one carries a short key stored in the shared store."""
    if not reply.choices:
        return None
    buttons = [
        InlineKeyboardButton(
            choice.label[:64], callback_data=await callback_data(choice.command, token_for)
        )
        for choice in reply.choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
