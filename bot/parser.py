"""Turning what a person typed into a command and its arguments.

People type on phones with Chinese input methods: full-width spaces and slashes,
curly quotes, an em dash where they meant `--`. All of that is accepted. Nothing
here raises anything but `ArgumentError`, whatever the input.
"""

from __future__ import annotations

import re
from typing import Any

from bot.args import Arg, Invalid, Option
from bot.errors import ArgumentError

_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»"}
_SPACE = re.compile(r"[\s\u3000]")
_LEADING = ("/", "／", "!", "！")
_DASHES = ("--", "—", "－－", "——", "–")


def tokenize(text: str) -> list[str]:
    """Split on white space, keeping quoted runs together; an unclosed quote runs to the end."""
    tokens: list[str] = []
    current: list[str] = []
    in_token = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if _SPACE.match(ch):
            if in_token:
                tokens.append("".join(current))
                current, in_token = [], False
            i += 1
            continue
        if ch in _QUOTES:
            close = _QUOTES[ch]
            end = text.find(close, i + 1)
            if end < 0:
                end = n
            current.append(text[i + 1 : end])
            in_token = True
            i = end + 1
            continue
        current.append(ch)
        in_token = True
        i += 1
    if in_token:
        tokens.append("".join(current))
    return tokens


def command_words(text: str) -> list[str] | None:
    """The words of a message if it looks like a command, else None.

    A leading slash is optional ("proposal list" works as "/proposal list"); a
    Telegram-style `@botname` suffix on the first word is dropped.
    """
    words = tokenize(text.strip())
    if not words:
        return None
    first = words[0]
    if first.startswith(_LEADING):
        first = first[1:]
    first = first.split("@", 1)[0] if "@" in first[1:] else first
    if not first:
        words = words[1:]
        return words or None
    words[0] = first
    return words


def _option_name(word: str) -> str | None:
    for dash in _DASHES:
        if word.startswith(dash) and len(word) > len(dash):
            return word[len(dash) :]
    return None


def bind(args: tuple[Arg, ...], options: tuple[Option, ...], words: list[str]) -> dict[str, Any]:
    """Match words to declared arguments and options, converting each; errors name the culprit."""
    by_name = {opt.name: opt for opt in options}
    values: dict[str, Any] = {opt.name: (False if opt.flag else opt.default) for opt in options}
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name = _option_name(word)
        if name is None:
            positional.append(word)
            i += 1
            continue
        name, has_eq, inline = name.partition("=")
        option = by_name.get(name.casefold())
        if option is None:
            raise ArgumentError(None, "bot.arg.unknown_option", option="--" + name)
        if option.flag:
            values[option.name] = True
            i += 1
            continue
        if has_eq:
            raw = inline
            i += 1
        elif i + 1 < len(words):
            raw = words[i + 1]
            i += 2
        else:
            raise ArgumentError(None, "bot.arg.option_needs_value", option="--" + name)
        values[option.name] = _convert("--" + option.name, option.convert, raw)

    for arg in args:
        if arg.variadic or arg.rest:
            taken, positional = positional, []
            if not taken and arg.required:
                raise ArgumentError(None, "bot.arg.missing", arg=arg.shown)
            if arg.rest:
                values[arg.name] = (
                    _convert(arg.label, arg.convert, " ".join(taken)) if taken else None
                )
            else:
                values[arg.name] = [_convert(arg.label, arg.convert, word) for word in taken]
            continue
        if not positional:
            if arg.required:
                raise ArgumentError(None, "bot.arg.missing", arg=arg.shown)
            values[arg.name] = None
            continue
        values[arg.name] = _convert(arg.label, arg.convert, positional.pop(0))
    if positional:
        raise ArgumentError(None, "bot.arg.unexpected", value=positional[0][:50])
    return values


def _convert(name: str, convert: Any, raw: str) -> Any:
    try:
        return convert(raw)
    except Invalid as exc:
        raise ArgumentError(name, exc.key, **exc.params) from None
    except ValueError:
        raise ArgumentError(name, "bot.invalid.generic", value=raw[:50]) from None
