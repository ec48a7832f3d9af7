"""Escaping user text for each platform's markup.

User text must never become markup: no `<!channel>` pings in Slack, no tags in
Telegram HTML, no formulas in spreadsheets.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def slack_mrkdwn(text: str) -> str:
    """Slack's three control characters; this also defuses `<!channel>` and `<@U123>`."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def telegram_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def spreadsheet_cell(value: object) -> object:
    """A string that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
