"""Neutral replies as Telegram HTML with inline keyboards; every piece of user text escaped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render.escape import telegram_html as esc
from bot.replies import Reply

MAX_TEXT = 4096
CALLBACK_PREFIX = "c:"


def html(reply: Reply) -> str:
    parts: list[str] = []
    if reply.title:
        parts.append(f"<b>{esc(reply.title)}</b>")
    if reply.text:
        parts.append(("⚠️ " if reply.error else "") + esc(reply.text))
    elif reply.error:
        parts.append("⚠️")
    if reply.fields:
        parts.append(
            "\n".join(f"<b>{esc(label)}</b>: {esc(value)}" for label, value in reply.fields)
        )
    if reply.items:
        parts.append("\n".join(f"• {esc(item)}" for item in reply.items))
    if reply.footer:
        parts.append(f"<i>{esc(reply.footer)}</i>")
    text = "\n\n".join(parts) or "…"
    if len(text) > MAX_TEXT:
        # Cut on a line boundary so no tag is left open, and say that it was cut.
        cut = text[: MAX_TEXT - 20].rsplit("\n", 1)[0]
        text = cut + "\n…"
    return text


async def keyboard(
    reply: Reply, token_for: Callable[[str], Awaitable[str]]
) -> InlineKeyboardMarkup | None:
    """Buttons two to a row; each carries a short key to its command in the shared store."""
    if not reply.choices:
        return None
    buttons = [
        InlineKeyboardButton(
            choice.label[:64], callback_data=CALLBACK_PREFIX + await token_for(choice.command)
        )
        for choice in reply.choices
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])
