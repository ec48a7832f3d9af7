"""A queued notice as a reply, in the reader's language and zone, with why they get it.

The one renderer of what the bot says on its own: the deliverer uses it for what it
sends, and commands for what they preview (`/digest now`), so both read the same. A
notice is a catalogue key and params; params starting with `_` are not text, except
the moments in MOMENTS, shown in the reader's zone, and values given per language
(`item_zh`, `item_en`: names that live outside the catalogue), shown as `item`.
Buttons and sections come decoded, as anything with the attributes below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from bot.i18n import Catalog
from bot.replies import Choice, Reply, Section
from bot.timefmt import format_datetime

MOMENTS = {"_at": "when", "_old_at": "old_when"}


class ButtonLike(Protocol):
    @property
    def label_key(self) -> str: ...
    @property
    def command(self) -> str: ...


class LineLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def command(self) -> str | None: ...


class SectionLike(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def params(self) -> dict[str, Any]: ...
    @property
    def lines(self) -> Sequence[LineLike]: ...


def values(params: Mapping[str, Any], lang: str, tz: tzinfo) -> dict[str, Any]:
    """The params a template may use, for this reader."""
    out = {k: v for k, v in params.items() if not k.startswith("_")}
    suffix = f"_{lang}"
    out |= {k.removesuffix(suffix): v for k, v in out.items() if k.endswith(suffix)}
    for param, name in MOMENTS.items():
        if param in params:
            out[name] = format_datetime(datetime.fromisoformat(params[param]), tz, lang)
    return out


def render_notice(
    catalog: Catalog,
    lang: str,
    message_key: str,
    why_key: str,
    params: Mapping[str, Any],
    tz: tzinfo = UTC,
    *,
    buttons: Sequence[ButtonLike] = (),
    sections: Sequence[SectionLike] = (),
) -> Reply:
    shown = values(params, lang, tz)
    return Reply(
        text=catalog.get(lang, message_key, **shown),
        sections=[
            Section(
                catalog.get(lang, section.key, **values(section.params, lang, tz)),
                [_line(catalog, lang, tz, line) for line in section.lines],
            )
            for section in sections
        ],
        choices=[
            Choice(label=catalog.get(lang, button.label_key), command=button.command)
            for button in buttons
        ],
        footer=catalog.get(lang, why_key, **shown),
        private=True,
    )


def _line(catalog: Catalog, lang: str, tz: tzinfo, line: LineLike) -> str:
    text = catalog.get(lang, line.key, **values(line.params, lang, tz))
    return f"{text}  → {line.command}" if line.command else text
