"""The deployment's proposal rules are read once, checked at start-up, and the same
everywhere: the form offers and checks what the service enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build
from storage.demo import load_demo
from storage.store import Actor, Store
from tests.conftest import make_settings
from tests.harness import ConsoleChat
from tests.test_console_cli import run


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("UNIONBOT_PROPOSAL_SECONDERS=two", "UNIONBOT_PROPOSAL_SECONDERS='two'"),
        ("UNIONBOT_PROPOSAL_TITLE_MAX=5", "from 10 to 200"),
        ("UNIONBOT_PROPOSAL_CATEGORIES=teaching,Food Hall", "'Food Hall' is not a category code"),
        ("UNIONBOT_PROPOSAL_CATEGORIES=teaching,canteen", "proposals.category.canteen"),
        ("UNIONBOT_MEETING_REMINDERS=soon", "write offsets like 7d 1d 2h"),
        ("UNIONBOT_RATE_TELEGRAM_GLOBAL=fast", "UNIONBOT_RATE_TELEGRAM_GLOBAL='fast'"),
    ],
)
def test_a_bad_setting_stops_start_up_and_says_why(tmp_path: Path, setting: str, says: str) -> None:
    name, value = setting.split("=", 1)
    done = run(["--db", f"sqlite:///{tmp_path / 'x.db'}", "demo"], env={name: value})
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


async def test_the_form_offers_the_deployments_categories_and_title_length(
    sqlite_url: str,
) -> None:
    env = {
        "UNIONBOT_PROPOSAL_CATEGORIES": "teaching,logistics",
        "UNIONBOT_PROPOSAL_TITLE_MAX": "12",
    }
    app = build(make_settings(sqlite_url).with_overrides(env=env))
    try:
        async with app.database.session() as session:
            await load_demo(Store(session, Actor(None, "cli", "test")), congress=False)
        chat = ConsoleChat(app)
        await chat.say("D2001", "/proposal new")
        too_long = await chat.say("D2001", "关于改善教职工食堂的饭菜质量和价格")
        assert too_long.error and "12" in too_long.text
        await chat.say("D2001", "食堂")
        await chat.say("D2001", "理由")
        asked = await chat.say("D2001", "办法")
        assert "1. 教学" in asked.text and "2. 后勤" in asked.text and "3." not in asked.text
        saved = await chat.say("D2001", "2")
        await chat.say("D2001", "-")
        assert not saved.error
    finally:
        await app.close()
