"""Neutral replies: what the bot says, before any platform decides how it looks.

Strings in a reply are plain text, already translated. Adapters escape them for
their markup (Slack mrkdwn, Telegram HTML) when they render; nothing here is markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Choice:
    """A button: clicking it does exactly what typing `command` would do."""

    label: str
    command: str
    style: str = "default"  # "primary" | "danger" | "default"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    # A picture to look at (a chart), not a file to keep: platforms that tell the two
    # apart show it inline (Telegram's sendPhoto, which also recompresses).
    inline: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of lines (a digest's "overdue proposals", a help topic)."""

    title: str
    items: list[str] = field(default_factory=list)
    # (term, description) pairs shown aligned where the platform can (a command and what it
    # does, in /help)
    pairs: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Reply:
    text: str = ""
    title: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)
    footer: str | None = None
    attachment: Attachment | None = None
    # Personal or sensitive data: never shown in a group chat, only to the person.
    private: bool = False
    # Marks an error reply, so adapters can style it and tests can assert on it.
    error: bool = False

    def plain(self) -> str:
        """A plain-text rendering, used by the console and by tests."""
        from bot.render.plain import render_plain

        return render_plain(self)
