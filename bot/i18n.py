"""Message catalogues in zh-CN and en.

Every user-facing string has a key; catalogues are TOML files, one per area and
language, so each area ships its own strings without touching the others'. A test
checks that both languages define exactly the same keys and placeholders.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

_ALIASES = {
    "zh": "zh",
    "zh-cn": "zh",
    "zh_cn": "zh",
    "zh-hans": "zh",
    "cn": "zh",
    "中文": "zh",
    "en": "en",
    "en-us": "en",
    "en_us": "en",
    "en-gb": "en",
    "english": "en",
    "英文": "en",
}


def normalize_language(value: str | None) -> str | None:
    """Map a platform locale or a user's word ("zh-CN", "en_US", "英文") to a catalogue language."""
    if not value:
        return None
    key = value.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    head = key.replace("_", "-").split("-", 1)[0]
    return _ALIASES.get(head)


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping):
            _flatten(key, value, out)
        else:
            out[key] = str(value)


PLURAL_OTHER = "#other"  # plural forms are quoted "#one", "#other" keys: never a word
PLURAL_PARAMS = ("count", "n", "days")  # the number a plural message is about, in this order


def plural_form(lang: str, params: Mapping[str, Any]) -> str:
    """Babel's plural category ("one", "other", ...) of the message's number in `lang`.

    A message with plural forms is a table in the catalogue, `days = { "#one" = "...",
    "#other" = "..." }`; each language writes the forms its rules have, Chinese only
    "#other"."""
    number = next((params[p] for p in PLURAL_PARAMS if isinstance(params.get(p), int)), None)
    if number is None:
        return "other"
    return str(_locale(lang).plural_form(abs(number)))


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def placeholders(template: str) -> set[str]:
    """The `{name}` fields a template uses (for the completeness test)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


class Catalog:
    """All strings of all areas, by language and dotted key."""

    def __init__(self) -> None:
        self.messages: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
        self.sources: list[Path] = []

    def load_dir(self, directory: Path) -> None:
        """Load `<directory>/<lang>/*.toml`; the file's stem is the key's first part."""
        for lang in LANGUAGES:
            for path in sorted((directory / lang).glob("*.toml")):
                with path.open("rb") as fh:
                    data = tomllib.load(fh)
                flat: dict[str, str] = {}
                _flatten(path.stem, data, flat)
                clash = set(flat) & set(self.messages[lang])
                if clash:
                    raise ValueError(f"{path}: keys defined twice: {sorted(clash)[:5]}")
                self.messages[lang].update(flat)
        self.sources.append(directory)

    def has(self, key: str) -> bool:
        table = self.messages[DEFAULT_LANGUAGE]
        return key in table or f"{key}.{PLURAL_OTHER}" in table

    def get(self, lang: str, key: str, **params: Any) -> str:
        table = self.messages.get(lang) or self.messages[DEFAULT_LANGUAGE]
        template = table.get(key)
        if template is None and f"{key}.{PLURAL_OTHER}" in table:
            template = (
                table.get(f"{key}.#{plural_form(lang, params)}") or table[f"{key}.{PLURAL_OTHER}"]
            )
        if template is None:
            template = self.messages[DEFAULT_LANGUAGE].get(key)
        if template is None:
            log.error("missing message key %s", key)
            return key
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.exception("bad parameters for message %s", key)
            return template

    def platform_name(self, lang: str, platform: str) -> str:
        """A chat platform as its users call it (企业微信, WeCom); an adapter the catalogue
        does not know keeps its id."""
        key = f"bot.platform.{platform}"
        return self.get(lang, key) if self.has(key) else platform

    def keys(self, lang: str) -> Iterable[str]:
        return self.messages[lang].keys()


BOT_LOCALES = Path(__file__).parent / "locales"
