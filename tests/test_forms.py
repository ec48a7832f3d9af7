"""Multi-step forms: asked step by step with the state in the store, or submitted whole (modals)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import App, build
from bot.args import choice, integer, text
from bot.context import Context
from bot.dispatcher import Dispatcher
from bot.forms import Form, FormField, StartForm
from bot.permissions import LINKED
from bot.registry import Area
from bot.replies import Reply
from commands import areas
from commands._backend import StoreBackend
from tests.conftest import make_settings
from tests.harness import ConsoleChat

SUBMITTED: list[dict[str, Any]] = []

test_area = Area("help")  # reuses the help catalogue for its labels: the form is test-only


async def save(ctx: Context[Any], values: dict[str, Any], form_context: dict[str, Any]) -> Reply:
    SUBMITTED.append({**values, **form_context})
    return Reply(text=f"saved {values['title']} x{values['count']} {values['kind']}")


test_area.form(
    Form(
        name="test-form",
        title_key="help.title",
        fields=(
            FormField("title", "help.usage", text(20)),
            FormField("count", "help.who", integer(1, 9)),
            FormField(
                "kind",
                "help.aliases",
                choice({"a": "a", "b": "b"}),
                choices=(("a", "role.delegate"), ("b", "role.officer")),
            ),
            FormField("note", "help.linked", text(100), required=False, multiline=True),
        ),
        on_submit=save,
        permission=LINKED,
    )
)


@test_area.command("testform", permission=LINKED, help_key="help.cmd.help", hidden=True)
async def open_form(ctx: Context[Any]) -> StartForm:
    return StartForm("test-form", context={"origin": "test"})


def with_test_form(app: App) -> App:
    from bot.registry import Registry

    registry = Registry()
    for area in areas():
        registry.include(area)
    registry.include(test_area)
    app.registry = registry
    app.dispatcher = Dispatcher(registry, app.catalog, StoreBackend(app.database), app.settings)
    return app


@pytest.fixture
def form_chat(app: App) -> ConsoleChat:
    SUBMITTED.clear()
    return ConsoleChat(with_test_form(app))


async def test_step_by_step_with_validation_skip_and_choice(form_chat: ConsoleChat) -> None:
    first = await form_chat.say("T1001", "/testform")
    assert "(1/4)" in first
    too_long = await form_chat.say("T1001", "x" * 30)
    assert too_long.error and "(1/4)" in too_long, "the same field is asked again"
    assert "(2/4)" in await form_chat.say("T1001", "食堂 饭菜")
    bad = await form_chat.say("T1001", "lots")
    assert bad.error and "(2/4)" in bad
    assert "(3/4)" in await form_chat.say("T1001", "3")
    assert "(4/4)" in await form_chat.say("T1001", "工会干部")  # a choice by its label
    done = await form_chat.say("T1001", "-")  # optional: skipped
    assert "saved 食堂 饭菜 x3 b" in done
    assert SUBMITTED == [
        {"title": "食堂 饭菜", "count": 3, "kind": "b", "note": None, "origin": "test"}
    ]
    assert "saved" not in await form_chat.say("T1001", "another message")


async def test_choice_by_number_and_english_label(form_chat: ConsoleChat) -> None:
    for answer in ("/testform", "t", "1", "1"):
        await form_chat.say("T1002", answer)
    assert "saved t x1 a" in await form_chat.say("T1002", "note text")
    for answer in ("/testform", "t", "2"):
        await form_chat.say("T1002", answer)
    assert "(4/4)" in await form_chat.say("T1002", "union officer")


async def test_cancel_and_commands_in_the_middle(form_chat: ConsoleChat) -> None:
    await form_chat.say("T1001", "/testform")
    await form_chat.say("T1001", "title")
    mid = await form_chat.say("T1001", "/whoami")
    assert "张伟" in mid and "还在填写" in mid
    assert "(2/4)" in await form_chat.say("T1001", "x")  # "x" is not a number: asked again
    cancelled = await form_chat.say("T1001", "取消")
    assert "已取消" in cancelled and not SUBMITTED
    assert "不认识的命令" in await form_chat.say("T1001", "2")


async def test_form_survives_a_restart(app: App, form_chat: ConsoleChat) -> None:
    await form_chat.say("D2002", "/testform")
    await form_chat.say("D2002", "before restart")
    restarted = with_test_form(build(make_settings(app.settings.database_url)))
    try:
        chat = ConsoleChat(restarted)
        assert "(3/4)" in await chat.say("D2002", "4")
        await chat.say("D2002", "a")
        assert "saved before restart x4 a" in await chat.say("D2002", "-")
    finally:
        await restarted.close()


async def test_forms_are_refused_in_groups(form_chat: ConsoleChat) -> None:
    said = await form_chat.say("T1001", "/testform", group=True)
    assert said.error and "私聊" in said


async def test_whole_form_submission_reports_field_errors(form_chat: ConsoleChat) -> None:
    app = form_chat.app
    await form_chat.say("T1003", "/whoami")  # links the console identity
    message = form_chat.message("T1003", "")
    outcome = await app.dispatcher.handle(form_chat.message("T1003", "/testform"), modal_forms=True)
    assert outcome.form is not None and outcome.form.name == "test-form"
    assert outcome.form_start is not None and outcome.form_start.context == {"origin": "test"}
    _, errors = await app.dispatcher.submit_form(
        message, "test-form", {"title": "", "count": "99", "kind": "z"}, {"origin": "modal"}
    )
    assert set(errors) == {"title", "count", "kind"}
    assert "不能大于 9" in errors["count"]
    result, errors = await app.dispatcher.submit_form(
        message,
        "test-form",
        {"title": "ok", "count": "2", "kind": "b", "note": ""},
        {"origin": "modal"},
    )
    assert not errors and "saved ok x2 b" in result.replies[0].text
    assert SUBMITTED[-1]["origin"] == "modal"
