"""The permission matrix: every command x every role, driven from the registry.

Commands added later are covered automatically: each is sent bare as a
representative of each role; a denial must happen exactly when the declared
requirement says so, and must name the needed role.
"""

from __future__ import annotations

import pytest

from bot.app import App
from bot.permissions import PermissionDenied, Principal, Role, require
from commands import build_registry
from commands._backend import principal_for
from storage import identity
from storage.store import Store
from tests.harness import ConsoleChat

REPRESENTATIVES = ["T1001", "T1003", "D2002", "D2001", "C3001", "O4001", "O4101", "H5001", "A9001"]
COMMANDS = sorted({c.name for c in build_registry()})


async def principal(app: App, staff_no: str) -> Principal:
    async with app.database.session() as session:
        view = await identity.staff_by_no(Store(session), staff_no)
    assert view is not None
    return principal_for(view)


def denial_text(app: App, needed: tuple[str, ...]) -> list[str]:
    return [app.catalog.get("zh", f"role.{role}") for role in needed]


@pytest.mark.parametrize("name", COMMANDS)
async def test_each_role_is_allowed_or_denied_as_declared(app: App, name: str) -> None:
    chat = ConsoleChat(app)
    command = app.registry.find(name)
    assert command is not None
    denied_marker = app.catalog.get("zh", "bot.denied", needed="", held="").split("：")[0]
    for staff_no in REPRESENTATIVES:
        who = await principal(app, staff_no)
        said = await chat.say(staff_no, "/" + name)
        denied = said.error and denied_marker in said.text
        assert denied == (not command.permission.allows(who)), (staff_no, name, said.text)
        if denied:
            assert any(label in said.text for label in denial_text(app, command.permission.any_of))


@pytest.mark.parametrize("name", COMMANDS)
async def test_unlinked_people_are_told_how_to_link_and_nothing_else(app: App, name: str) -> None:
    chat = ConsoleChat(app)
    command = app.registry.find(name)
    assert command is not None
    said = await chat.say_unlinked("stranger-1", "/" + name)
    not_linked = app.catalog.get("zh", "bot.not_linked")
    if command.permission.public:
        assert not_linked not in said.text
    else:
        assert said.text == not_linked and said.error


async def test_plain_text_from_unlinked_person_only_says_how_to_link(chat: ConsoleChat) -> None:
    said = await chat.say_unlinked("stranger-2", "你好")
    assert "/link" in said.text


def test_scoped_roles() -> None:
    officer = Principal(1, "O", "o", frozenset({Role("officer")}))
    sub_officer = Principal(2, "S", "s", frozenset({Role("officer", "文学院分工会")}))
    admin = Principal(3, "A", "a", frozenset({Role("admin")}))
    handler = Principal(4, "H", "h", frozenset({Role("handler", "教务处")}))
    assert officer.has("officer", "文学院分工会") and officer.has("officer")
    assert sub_officer.has("officer", "文学院分工会")
    assert not sub_officer.has("officer", "计算机学院分工会")
    assert sub_officer.has("officer")  # an officer somewhere, for commands that need any officer
    assert admin.has("handler", "教务处") and admin.has("committee")
    assert handler.has("handler", "教务处") and not handler.has("handler", "后勤管理处")
    require(handler, "handler", scope="教务处")
    with pytest.raises(PermissionDenied) as denied:
        require(handler, "handler", "committee", scope="后勤管理处")
    assert denied.value.needed == ("handler", "committee")
    assert Role.parse("officer:文学院分工会") == Role("officer", "文学院分工会")
    assert str(Role("handler", "教务处")) == "handler:教务处"
