"""The command registry: each command declared once, with names, arguments, permission and help.

Modelled on Errbot's declarative commands: a handler is a plain async function, the
decorator records everything the dispatcher, the help generator and the adapters
(Slack's slash command, Telegram's command menu) need to know about it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from bot.args import Arg, Option
from bot.config import Settings
from bot.permissions import LINKED, Requirement

if TYPE_CHECKING:
    from bot.context import Context
    from bot.forms import Form, StartForm
    from bot.replies import Reply

Result: TypeAlias = "Reply | list[Reply] | StartForm"
# A form, or how to build it from the deployment's settings (its choices and limits).
FormSource: TypeAlias = "Form | Callable[[Settings], Form | Sequence[Form]]"
Handler: TypeAlias = "Callable[[Context[Any]], Awaitable[Result]]"


def _built(source: FormSource, settings: Settings) -> list[Form]:
    if not callable(source):
        return [source]
    made = source(settings)
    return [made] if not isinstance(made, Sequence) else list(made)


def _words(name: str) -> tuple[str, ...]:
    return tuple(part.casefold() for part in name.split())


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # "proposal list"
    handler: Handler
    area: str
    help_key: str  # catalogue prefix: `<help_key>.summary`, optional `<help_key>.details`
    aliases: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()
    options: tuple[Option, ...] = ()
    permission: Requirement = LINKED
    # The reply carries personal data: in a group it goes to the person privately.
    private: bool = False
    hidden: bool = False
    # Takes the files a person sends (given as its text, or on the console `/file PATH`
    # before it); the one marked `files_default` runs for files sent without a command.
    takes_files: bool = False
    files_default: bool = False
    # Running it moves on from an open form rather than interrupting it (a survey's Skip
    # while its free-text answer is being asked): the form closes, nothing says it is open.
    ends_form: bool = False
    # What someone it refuses most likely meant (an officer's `/survey list` typed by a
    # member who wants `/surveys`): the refusal offers it.
    instead: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return _words(self.name)

    def usage(self, alias: str | None = None) -> str:
        parts = ["/" + (alias or self.name)]
        parts.extend(arg.shown for arg in self.args)
        parts.extend(opt.shown for opt in self.options)
        return " ".join(parts)


@dataclass
class Area:
    """The commands and forms of one area (help, identity, proposals...), declared by decorators."""

    name: str
    commands: list[Command] = field(default_factory=list)
    forms: list[FormSource] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        aliases: Iterable[str] = (),
        args: Iterable[Arg] = (),
        options: Iterable[Option] = (),
        permission: Requirement = LINKED,
        private: bool = False,
        hidden: bool = False,
        help_key: str | None = None,
        takes_files: bool = False,
        files_default: bool = False,
        ends_form: bool = False,
        instead: str | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(
                    name=name,
                    handler=handler,
                    area=self.name,
                    help_key=help_key or f"{self.name}.cmd.{name.replace(' ', '_')}",
                    aliases=tuple(aliases),
                    args=tuple(args),
                    options=tuple(options),
                    permission=permission,
                    private=private,
                    hidden=hidden,
                    takes_files=takes_files or files_default,
                    files_default=files_default,
                    ends_form=ends_form,
                    instead=instead,
                )
            )
            return handler

        return register

    def form(self, form: FormSource) -> FormSource:
        """Declare a form; a function of the settings builds it when the registry is made."""
        self.forms.append(form)
        return form


class Registry:
    """Every command and form, looked up by any of its names in any language."""

    def __init__(self) -> None:
        self.files_command: Command | None = None
        self._by_path: dict[tuple[str, ...], Command] = {}
        self._groups: dict[tuple[str, ...], list[Command]] = {}
        self._forms: dict[str, Form] = {}
        self.areas: list[Area] = []
        self.max_depth = 1

    def include(self, area: Area, settings: Settings | None = None) -> None:
        self.areas.append(area)
        for command in area.commands:
            if command.files_default:
                if self.files_command is not None:
                    raise ValueError(f"{command.name!r}: only one command is the files' default")
                self.files_command = command
            for name in (command.name, *command.aliases):
                path = _words(name)
                if path in self._by_path:
                    raise ValueError(f"command name {name!r} is declared twice")
                self._by_path[path] = command
                self.max_depth = max(self.max_depth, len(path))
                for depth in range(1, len(path)):
                    group = self._groups.setdefault(path[:depth], [])
                    if command not in group:
                        group.append(command)
        for source in area.forms:
            for form in _built(source, settings or Settings()):
                if form.name in self._forms:
                    raise ValueError(f"form {form.name!r} is declared twice")
                self._forms[form.name] = form

    def refresh_forms(self, settings: Settings) -> None:
        """Build again the forms that depend on configuration (after a policy reload)."""
        for area in self.areas:
            for source in area.forms:
                if callable(source):
                    self._forms.update({f.name: f for f in _built(source, settings)})

    def __iter__(self) -> Iterator[Command]:
        for area in self.areas:
            yield from area.commands

    def match(self, words: list[str]) -> tuple[Command | None, int]:
        """The command named by the longest prefix of `words`, and how many words it used."""
        folded = [word.casefold() for word in words[: self.max_depth]]
        for depth in range(len(folded), 0, -1):
            command = self._by_path.get(tuple(folded[:depth]))
            if command is not None:
                return command, depth
        return None, 0

    def group(self, words: list[str]) -> tuple[list[Command], int]:
        """The subcommands under the longest known group prefix (`/proposal` alone)."""
        folded = [word.casefold() for word in words[: self.max_depth]]
        for depth in range(len(folded), 0, -1):
            members = self._groups.get(tuple(folded[:depth]))
            if members:
                return members, depth
        return [], 0

    def alias_used(self, command: Command, words: list[str], depth: int) -> str:
        typed = " ".join(words[:depth])
        for name in (command.name, *command.aliases):
            if _words(name) == _words(typed):
                return name
        return command.name

    def find(self, name: str) -> Command | None:
        return self._by_path.get(_words(name))

    def form(self, name: str) -> Form | None:
        return self._forms.get(name)
