"""Turning a queued message into a reply: its stored buttons and sections decoded, then
`bot.notices.render_notice`, the renderer every notice goes through."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from bot.i18n import Catalog
from bot.notices import render_notice
from bot.replies import Reply
from storage.outbox import buttons_of, sections_of


def render_notification(
    catalog: Catalog,
    lang: str,
    message_key: str,
    why_key: str,
    params: dict[str, Any],
    tz: tzinfo = UTC,
) -> Reply:
    return render_notice(
        catalog,
        lang,
        message_key,
        why_key,
        params,
        tz,
        buttons=buttons_of(params),
        sections=sections_of(params),
    )
