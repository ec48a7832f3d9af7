"""Plain-text rendering for the console and for conversation tests."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.replies import Reply


PAIR_WIDTH = 36  # display columns before a pair's description


def render_plain(reply: Reply) -> str:
    lines: list[str] = []
    if reply.title:
        # 【】 around a Chinese title; an English one gets ASCII brackets.
        cjk = any(ord(ch) > 0x2E7F for ch in reply.title)
        lines.append(f"【{reply.title}】" if cjk else f"[{reply.title}]")
    if reply.text:
        lines.append(reply.text)
    if reply.fields:
        width = max(_display_width(label) for label, _ in reply.fields)
        for label, value in reply.fields:
            pad = " " * (width - _display_width(label))
            lines.append(f"  {label}{pad}  {value}")
    lines.extend(f"  • {item}" for item in reply.items)
    for section in reply.sections:
        lines.append(section.title)
        lines.extend(f"  • {item}" for item in section.items)
        if section.pairs:
            # Aligned, but a very long term (a command with many options) does not push
            # every description off the screen: its description goes on the next line.
            width = min(PAIR_WIDTH, max(_display_width(term) for term, _ in section.pairs))
            for term, description in section.pairs:
                room = width - _display_width(term)
                if room < 0:
                    lines += [f"  {term}", f"  {' ' * width}  {description}"]
                else:
                    lines.append(f"  {term}{' ' * room}  {description}")
    if reply.choices:
        lines.append("  " + "   ".join(f"[{c.label}: {c.command}]" for c in reply.choices))
    if reply.attachment:
        lines.append(f"  📎 {reply.attachment.filename} ({len(reply.attachment.content)} bytes)")
    if reply.footer:
        lines.append(reply.footer)
    return "\n".join(lines)


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def _display_width(text: str) -> int:
    """CJK characters (anything from U+2E80 on) take two terminal columns."""
    return len(text) if text.isascii() else len(text) + len(_WIDE.findall(text))
