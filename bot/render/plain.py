"""Plain-text rendering for the console and for conversation tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.replies import Reply


def render_plain(reply: Reply) -> str:
    lines: list[str] = []
    if reply.title:
        lines.append(f"【{reply.title}】")
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
    if reply.choices:
        lines.append("  " + "   ".join(f"[{c.label}: {c.command}]" for c in reply.choices))
    if reply.attachment:
        lines.append(f"  📎 {reply.attachment.filename} ({len(reply.attachment.content)} bytes)")
    if reply.footer:
        lines.append(reply.footer)
    return "\n".join(lines)


def _display_width(text: str) -> int:
    """CJK characters take two terminal columns."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
