"""The dispatcher's promises: private data stays private, errors are clear, nothing is half-saved."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.app import App
from bot.context import Context
from bot.dispatcher import MAX_MESSAGE_LENGTH, Dispatcher
from bot.errors import UserError
from bot.permissions import LINKED
from bot.registry import Area, Registry
from bot.replies import Reply
from commands import areas
from commands._backend import StoreBackend
from storage import audit
from storage.models import AuditEntry
from tests.harness import ConsoleChat

failing = Area("help")


@failing.command("explode", permission=LINKED, help_key="help.cmd.help", hidden=True)
async def explode(ctx: Context[Any]) -> Reply:
    await audit.record(ctx.services, "test.explode", "test", 1)
    raise RuntimeError("boom")


@failing.command("refuse", permission=LINKED, help_key="help.cmd.help", hidden=True)
async def refuse(ctx: Context[Any]) -> Reply:
    await audit.record(ctx.services, "test.refuse", "test", 1)
    raise UserError("help.unknown", command="x")


@pytest.fixture
def test_chat(app: App) -> ConsoleChat:
    registry = Registry()
    for area in areas():
        registry.include(area)
    registry.include(failing)
    app.dispatcher = Dispatcher(registry, app.catalog, StoreBackend(app.database), app.settings)
    return ConsoleChat(app)


async def audit_actions(app: App) -> list[str]:
    async with app.database.session() as session:
        return list(await session.scalars(select(AuditEntry.action)))


async def test_private_reply_in_a_group_goes_to_the_person(chat: ConsoleChat) -> None:
    said = await chat.say("D2001", "/whoami", group=True)
    note, reply = said.replies
    assert "私信" in note.text and not note.private
    assert reply.private and "13800002001" in reply.plain()


async def test_too_long_and_empty_messages(chat: ConsoleChat) -> None:
    said = await chat.say("T1001", "x" * (MAX_MESSAGE_LENGTH + 1))
    assert said.error and str(MAX_MESSAGE_LENGTH) in said
    said = await chat.say("T1001", "   ")
    assert "/help" in said


async def test_unknown_commands_get_suggestions(chat: ConsoleChat) -> None:
    assert "/whoami" in await chat.say("T1001", "/whomai")
    assert "/help" in await chat.say("T1001", "帮组")
    assert "/lang" in await chat.say("T1001", "/lnag en")


async def test_help_is_generated_and_explains_one_command(chat: ConsoleChat) -> None:
    listing = await chat.say("T1001", "/help")
    for name in ("/whoami", "/link CODE", "/lang"):
        assert name in listing
    one = await chat.say("T1001", "/help lang")
    assert "/lang [zh|en]" in one and "/语言" in one
    assert (await chat.say("T1001", "帮助 whoami")).text == (
        await chat.say("T1001", "/help whoami")
    ).text
    missing = await chat.say("T1001", "/help nothing-like-this")
    assert missing.error and "nothing-like-this" in missing


async def test_wrong_arguments_name_the_argument_and_show_usage(chat: ConsoleChat) -> None:
    said = await chat.say("T1001", "/lang fr")
    assert said.error and "zh|en" in said and "/lang" in said
    said = await chat.say("T1001", "/whoami --verbose")
    assert said.error and "--verbose" in said
    said = await chat.say("T1001", "/lang zh extra")
    assert said.error and "extra" in said


async def test_an_unexpected_error_is_logged_and_rolled_back(
    test_chat: ConsoleChat, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.dispatcher"):
        said = await test_chat.say("T1001", "/explode")
    assert said.error and "事件编号" in said
    assert "boom" in caplog.text and "Traceback" in caplog.text
    assert "test.explode" not in await audit_actions(test_chat.app), "nothing half-saved"


async def test_a_user_error_keeps_what_was_written_before_it(test_chat: ConsoleChat) -> None:
    # Intended: refusals still record (e.g. failed link attempts that feed the throttle).
    said = await test_chat.say("T1001", "/refuse")
    assert said.error and "没有「x」这条命令" in said
    assert "test.refuse" in await audit_actions(test_chat.app)


async def test_language_is_remembered(chat: ConsoleChat) -> None:
    await chat.say("T1002", "/lang en")
    assert "Staff no." in await chat.say("T1002", "/whoami")
    assert "Current language: English" in await chat.say("T1002", "/lang")
    await chat.say("T1002", "/语言 中文")
    assert "工号" in await chat.say("T1002", "/whoami")
    async with chat.app.database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "staff.language")
        )
    assert count == 2


async def test_time_zone_is_remembered(chat: ConsoleChat) -> None:
    assert "Asia/Shanghai" in await chat.say("T1001", "/timezone")
    assert (await chat.say("T1001", "/timezone Mars/Olympus")).error
    said = await chat.say("T1001", "/时区 Europe/London")
    assert "Europe/London" in said and ("GMT" in said or "BST" in said)
    assert "Europe/London" in await chat.say("T1001", "/timezone")


def test_every_refusals_suggestion_is_a_command_anyone_linked_may_run() -> None:
    from commands import build_registry

    registry = build_registry()
    pointed = [c for c in registry if c.instead]
    assert pointed, "some commands point the refused elsewhere"
    for command in pointed:
        meant = registry.find(command.instead or "")
        assert meant is not None and meant.permission is LINKED, command.name
