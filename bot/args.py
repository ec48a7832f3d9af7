"""Argument types for declared commands and form fields.

A converter takes the user's text and returns a value or raises `ValueError`
whose message is a catalogue key (with `args` for its parameters), so the
reason reaches the user in their language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Converter = Callable[[str], Any]


class Invalid(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def text(max_length: int = 2000, min_length: int = 1) -> Converter:
    def convert(value: str) -> str:
        value = value.strip()
        if len(value) < min_length:
            raise Invalid("bot.invalid.empty")
        if len(value) > max_length:
            raise Invalid("bot.invalid.too_long", max=max_length, length=len(value))
        return value

    return convert


def integer(minimum: int | None = None, maximum: int | None = None) -> Converter:
    def convert(value: str) -> int:
        cleaned = value.strip().lstrip("#＃")
        if not re.fullmatch(r"[0-9０-９]{1,12}", cleaned):
            raise Invalid("bot.invalid.integer", value=value)
        number = int(cleaned)
        if minimum is not None and number < minimum:
            raise Invalid("bot.invalid.min", min=minimum)
        if maximum is not None and number > maximum:
            raise Invalid("bot.invalid.max", max=maximum)
        return number

    return convert


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_date(value: str) -> date:
    """2026-11-24, 2026/11/24, 2026.11.24 and 2026年11月24日 all mean the same day."""
    match = _DATE.fullmatch(value.strip())
    if not match:
        raise Invalid("bot.invalid.date", value=value)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise Invalid("bot.invalid.date", value=value) from None


@dataclass(frozen=True, slots=True)
class Named:
    """Stable values whose names are in the catalogue (`key` with `{value}` in it): an error
    lists them by name in the reader's language, not by code."""

    values: tuple[str, ...]
    key: str


def choice(options: Mapping[str, str], names: str | None = None) -> Converter:
    """`options` maps every accepted word (any language, any case) to its stable value;
    `names` is the catalogue key of a value's name (`proposals.status.{value}`)."""
    lookup = {word.casefold(): value for word, value in options.items()}
    values = tuple(dict.fromkeys(options.values()))
    shown = "|".join(values)

    def convert(value: str) -> str:
        found = lookup.get(value.strip().casefold())
        if found is None:
            listed: str | Named = Named(values, names) if names else shown
            raise Invalid("bot.invalid.choice", value=value, options=listed)
        return found

    convert.choices = shown  # type: ignore[attr-defined]
    return convert


@dataclass(frozen=True, slots=True)
class Arg:
    """A positional argument.

    `variadic` collects every remaining word into a list; `rest` joins them into
    one text (for a reason or a comment that may contain spaces without quotes).
    """

    name: str
    convert: Converter = field(default_factory=text)
    required: bool = True
    variadic: bool = False
    rest: bool = False
    metavar: str | None = None

    @property
    def label(self) -> str:
        """The argument as the usage line names it: its metavar, or its choices."""
        choices = getattr(self.convert, "choices", None)
        return self.metavar or choices or self.name.upper()

    @property
    def shown(self) -> str:
        name = self.label
        if self.variadic or (self.rest and not self.metavar):
            name += "..."
        return name if self.required else f"[{name}]"


@dataclass(frozen=True, slots=True)
class Option:
    """A `--name VALUE` option, or a `--name` flag when `flag` is set."""

    name: str
    convert: Converter = field(default_factory=text)
    flag: bool = False
    metavar: str | None = None
    default: Any = None

    @property
    def shown(self) -> str:
        if self.flag:
            return f"[--{self.name}]"
        return f"[--{self.name} {self.metavar or self.name.upper()}]"


_DATETIME = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"\s*[T ]?\s*(\d{1,2})[:：点](\d{2})?分?"
)


def local_datetime(value: str) -> datetime:
    """'2026-12-01 14:30' (or 2026年12月1日 14:30): a wall-clock time, without a zone yet.

    The caller attaches the person's zone; the store keeps it in UTC.
    """
    match = _DATETIME.fullmatch(value.strip())
    if not match:
        raise Invalid("bot.invalid.datetime", value=value)
    try:
        return datetime(
            int(match[1]), int(match[2]), int(match[3]), int(match[4]), int(match[5] or 0)
        )
    except ValueError:
        raise Invalid("bot.invalid.datetime", value=value) from None
