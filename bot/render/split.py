"""Splitting long text for platforms that limit a message or a block, never mid-entity.

Limits are counted the way each platform counts: `size` gives a text's cost (UTF-16
units for Telegram, the escaped length for Slack's mrkdwn, `len` for WeCom), measured in
one pass at C speed; only a text over its limit is walked character by character.
Splits fall after a paragraph, else a line, else a space, when that keeps at least half
the piece; else at any character. The pieces joined are always exactly the text.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

Size = Callable[[str], int]


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut_points(text: str, limit: int, size: Size = utf16_units) -> list[int]:
    """Indexes at which to split `text` so that no piece costs more than `limit`."""
    cuts: list[int] = []
    start = 0
    while size(text[start:]) > limit:
        end, used = start, 0
        while end < len(text) and used + size(text[end]) <= limit:
            used += size(text[end])
            end += 1
        end = max(end, start + 1)  # one character over the limit alone still moves on
        piece = text[start:end]
        cut = end
        for boundary in ("\n\n", "\n", " "):
            at = piece.rfind(boundary)
            if at >= len(piece) // 2:
                cut = start + at + len(boundary)
                break
        cuts.append(cut)
        start = cut
    return cuts


def pieces(text: str, limit: int, size: Size = utf16_units) -> list[str]:
    bounds = [0, *cut_points(text, limit, size), len(text)]
    return [text[a:b] for a, b in pairwise(bounds)]


def clip(text: str, limit: int, size: Size = utf16_units) -> str:
    """`text`, or as much of it as fits with "…" after it: only where a hard limit forces it."""
    if size(text) <= limit:
        return text
    used, end = size("…"), 0
    while end < len(text) and used + size(text[end]) <= limit:
        used += size(text[end])
        end += 1
    return text[:end] + "…"
