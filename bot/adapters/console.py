"""Chat with the bot in a terminal, as one person from the roster.

Interactive on a terminal; when standard input is a pipe it reads one message per
line, prints each reply and any notification addressed to that person, and ends
at the end of input, so conversations can be scripted.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar, TextIO

from bot.adapter import Adapter, Runtime
from bot.config import Settings
from bot.delivery import Recipient, SendResult
from bot.events import MAX_FILE_BYTES, ChatKind, IncomingFile, IncomingMessage, Sender
from bot.replies import Attachment, Reply

PLATFORM = "console"
QUIT_WORDS = {"/quit", "/exit", "quit", "exit", "退出聊天"}
FILE_COMMAND = "/file"


class ConsoleAdapter(Adapter):
    platform: ClassVar[str] = PLATFORM

    def __init__(
        self,
        runtime: Runtime,
        *,
        user_id: str,
        language: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        deliver: Callable[[str], Awaitable[int]] | None = None,
    ) -> None:
        super().__init__(runtime)
        self.user_id = user_id
        self.language = language
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.deliver = deliver
        self.interactive = self.stdin.isatty()
        self._sequence = 0
        self.finished = asyncio.Event()

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        return False  # started explicitly: by `unionbot console`, or by `run` when nothing else is

    def _print(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    async def say(self, text: str) -> list[Reply]:
        """Send one line as this person; returns (and prints) the replies and notifications.
        `/file PATH [CAPTION]` sends the file at PATH, as an upload would on a platform."""
        self._sequence += 1
        files: tuple[IncomingFile, ...] = ()
        if text.startswith(FILE_COMMAND + " "):
            path, _, text = text[len(FILE_COMMAND) + 1 :].strip().partition(" ")
            files = (read_local_file(Path(path).expanduser()),)
        message = IncomingMessage(
            sender=Sender(platform=PLATFORM, user_id=self.user_id, display_name=self.user_id),
            text=text,
            chat_id=self.user_id,
            chat_kind=ChatKind.PRIVATE,
            event_id=f"console-{self._sequence}",
            files=files,
            language=self.language,
        )
        outcome = await self.runtime.dispatcher.handle(message)
        for reply in outcome.replies:
            self._print(_console_text(reply))
        if self.deliver is not None:
            await self.deliver(self.user_id)
        return outcome.replies

    async def start(self) -> None:
        try:
            if self.deliver is not None:
                await self.deliver(self.user_id)
            while True:
                if self.interactive:
                    line = await asyncio.to_thread(_prompt, self.stdout)
                else:
                    line = await asyncio.to_thread(self.stdin.readline)
                if line is None or line == "":
                    break
                text = line.strip()
                if not text:
                    continue
                if text.casefold() in QUIT_WORDS:
                    break
                if not self.interactive:
                    self._print(f"> {text}")
                await self.say(text)
                if not self.interactive:
                    self._print("")
        finally:
            self.finished.set()

    async def stop(self) -> None:
        self.finished.set()

    async def send(self, recipient: Recipient, reply: Reply) -> SendResult:
        if recipient.user_id != self.user_id:
            # Someone else's console mailbox: it waits until they open a console.
            return SendResult.retry(3600, "recipient is not at this console")
        self._sequence += 1
        self._print("🔔 " + _console_text(reply).replace("\n", "\n   "))
        return SendResult.sent(f"console-{self._sequence}")


def read_local_file(path: Path) -> IncomingFile:
    """A file from this machine (the console's person is the one at it), within the bound."""
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return IncomingFile(path.name, mime, refused=f"{size} bytes > {MAX_FILE_BYTES}")
        return IncomingFile(path.name, mime, path.read_bytes())
    except OSError as exc:
        return IncomingFile(path.name, mime, refused=exc.strerror or "cannot be read")


def _console_text(reply: Reply) -> str:
    text = reply.plain()
    if reply.attachment is not None:
        text += f"\n     {save_attachment(reply.attachment)}"
    return f"⚠ {text}" if reply.error else text


def save_attachment(attachment: Attachment) -> Path:
    """A file the bot sends (a chart, an evidence file) saved where the console's person
    can open it: a folder only they may read, since evidence may be medical."""
    folder = Path(tempfile.gettempdir()) / f"unionbot-console-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    name = Path(attachment.filename).name or "file"
    path = folder / name
    path.write_bytes(attachment.content)
    return path


def _prompt(stdout: TextIO) -> str | None:
    try:
        return input("你 > ")
    except EOFError:
        return None
    except KeyboardInterrupt:
        return None
