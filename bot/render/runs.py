"""A reply as runs of plain text, each bold, italic or neither: the shape every marked-up
platform renders from (Telegram HTML, WeCom markdown), so a long reply can be split on
its visible text and marked up piece by piece, never inside a tag.

Error replies start with ⚠️; a reply with nothing to say is "…".
"""

from __future__ import annotations

from bot.replies import Reply

Run = tuple[str | None, str]  # (tag or None, plain text)


def runs(reply: Reply) -> list[Run]:
    """The reply's runs: markup is added only when a range of them is rendered."""
    blocks: list[list[Run]] = []
    if reply.title:
        blocks.append([("b", reply.title)])
    if reply.text:
        blocks.append([(None, ("⚠️ " if reply.error else "") + reply.text)])
    elif reply.error:
        blocks.append([(None, "⚠️")])
    if reply.fields:
        lines: list[Run] = []
        for index, (label, value) in enumerate(reply.fields):
            lines += [(None, "\n")] if index else []
            lines += [("b", label), (None, f": {value}")]
        blocks.append(lines)
    if reply.items:
        blocks.append([(None, "\n".join(f"• {item}" for item in reply.items))])
    for section in reply.sections:
        body = "".join(f"\n• {item}" for item in section.items)
        body += "".join(f"\n{term} — {description}" for term, description in section.pairs)
        blocks.append([("b", section.title), (None, body)])
    if reply.footer:
        blocks.append([("i", reply.footer)])
    out: list[Run] = []
    for index, block in enumerate(blocks):
        out += [(None, "\n\n")] if index else []
        out += block
    return out or [(None, "…")]
