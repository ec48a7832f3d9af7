"""Escaping user text for each platform's markup.

User text must never become markup: no `<!channel>` pings in Slack, no tags in
Telegram HTML, no formulas in spreadsheets.
"""

from __future__ import annotations

import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def slack_mrkdwn(text: str) -> str:
    """Slack's three control characters; this also defuses `<!channel>` and `<@U123>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def telegram_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# WeCom's markdown has no escape character. A zero-width space after each character that
# opens markup keeps user text from becoming a mention (`<@userid>`), a coloured tag, a
# link whose target is hidden (`[text](url)`), bold or code; it is invisible on screen.
_ZWSP = "\u200b"
_WECOM_OPENERS = str.maketrans({ch: ch + _ZWSP for ch in "<*`[]"})
_WECOM_LINE_START = re.compile(r"(?m)^(?=[#>])")


def wecom_markdown(text: str) -> str:
    """User text inside WeCom markdown: shown as typed, never read as markup; a line that
    starts with # or > is not made a heading or a quote."""
    return _WECOM_LINE_START.sub(_ZWSP, text.translate(_WECOM_OPENERS))


def spreadsheet_cell(value: object) -> object:
    """A string that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
