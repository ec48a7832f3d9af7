"""Turning a queued message into a reply in the recipient's language, with why they get it."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.i18n import Catalog
from bot.replies import Choice, Reply
from bot.timefmt import format_datetime
from storage.outbox import buttons_of

# ISO moments in params, shown in the recipient's zone and language under these names.
MOMENTS = {"_at": "when", "_old_at": "old_when"}


def render_notification(
    catalog: Catalog,
    lang: str,
    message_key: str,
    why_key: str,
    params: dict[str, Any],
    tz: tzinfo = UTC,
) -> Reply:
    values = {k: v for k, v in params.items() if not k.startswith("_")}
    # A value given per language (item_zh, item_en: names that live outside the
    # catalogue) is shown in the reader's as `item`.
    suffix = f"_{lang}"
    values |= {k.removesuffix(suffix): v for k, v in values.items() if k.endswith(suffix)}
    for param, name in MOMENTS.items():
        if param in params:
            values[name] = format_datetime(datetime.fromisoformat(params[param]), tz, lang)
    choices = [
        Choice(label=catalog.get(lang, button.label_key), command=button.command)
        for button in buttons_of(params)
    ]
    return Reply(
        text=catalog.get(lang, message_key, **values),
        choices=choices,
        footer=catalog.get(lang, why_key, **values),
        private=True,
    )
