"""Evidence for an application: a file sent in the chat on Slack and Telegram (a path on the
console) is attached to the person's open application, kept by its SHA-256, readable by its
reviewers, and deleted after the retention period."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.app import App
from commands._benefits import file_store, retention_years
from storage.benefits.applications import purge_evidence
from storage.clock import utcnow
from storage.models import BenefitApplication, EvidenceFile
from storage.store import SYSTEM, Store
from tests.drivers.slack import SlackChat, slack_driver
from tests.drivers.telegram import TelegramChat, telegram_driver
from tests.harness import ConsoleChat

PDF = b"%PDF-1.4 discharge note \xe4\xbd\x8f\xe9\x99\xa2"


async def files_of(app: App, application_id: int) -> list[EvidenceFile]:
    async with app.database.session() as session:
        rows = await session.scalars(
            select(EvidenceFile).where(EvidenceFile.application_id == application_id)
        )
        return list(rows)


@pytest.fixture
async def slack(app: App) -> AsyncIterator[SlackChat]:
    async with slack_driver(app) as chat:
        yield chat


@pytest.fixture
async def tg(app: App) -> AsyncIterator[TelegramChat]:
    async with telegram_driver(app) as chat:
        yield chat


async def test_a_file_sent_on_telegram_is_attached(app: App, tg: TelegramChat) -> None:
    uid = await tg.link("T1001")
    tg.fake.files["F-pdf"] = PDF
    update_ = tg.update(uid, "T1001", "")
    message = update_["message"]
    del message["text"]
    message["document"] = {
        "file_id": "F-pdf",
        "file_unique_id": "uF-pdf",
        "file_name": "出院小结.pdf",
        "mime_type": "application/pdf",
        "file_size": len(PDF),
    }
    mark = len(tg.fake.calls)
    assert await tg.post(update_) == 200
    said = " ".join(c.params["text"] for c in tg.fake.sent(uid, since=mark))
    assert "已把「出院小结.pdf」附到申请 #1" in said
    (kept,) = await files_of(app, 1)
    assert kept.sha256 == hashlib.sha256(PDF).hexdigest() and kept.size == len(PDF)
    assert file_store(app.settings).get(kept.sha256) == PDF


async def test_a_file_shared_in_a_slack_dm_is_attached(app: App, slack: SlackChat) -> None:
    uid = await slack.link("T1002")
    slack.fake.files["F1"] = PDF
    event = {
        "type": "event_callback",
        "event_id": "EvFILE1",
        "event_time": int(time.time()),
        "event": {
            "type": "message",
            "subtype": "file_share",
            "channel_type": "im",
            "channel": "D" + uid,
            "user": uid,
            "text": "/application attach 3",
            "ts": "99.0",
            "files": [
                {
                    "id": "F1",
                    "name": "出生医学证明.pdf",
                    "mimetype": "application/pdf",
                    "size": len(PDF),
                    "url_private_download": f"{slack.fake.url}/files/F1",
                }
            ],
        },
    }
    status, _ = await slack.post(json.dumps(event))
    assert status == 200
    (kept,) = await files_of(app, 3)
    assert kept.name == "出生医学证明.pdf"
    # A link to anywhere else is not fetched with the bot token.
    event["event_id"], event["event"]["ts"] = "EvFILE2", "100.0"
    event["event"]["files"][0]["url_private_download"] = "http://169.254.169.254/latest"
    await slack.post(json.dumps(event))
    assert len(await files_of(app, 3)) == 1


async def test_the_console_takes_a_path_and_reviewers_can_open_the_file(
    app: App, tmp_path: Path
) -> None:
    scan = tmp_path / "证明.pdf"
    scan.write_bytes(PDF)
    chat = ConsoleChat(app)
    from bot.adapters.console import read_local_file
    from bot.events import ChatKind, IncomingMessage, Sender

    await chat.say("T1001", "/whoami")
    message = IncomingMessage(
        sender=Sender("console", "T1001"),
        text="",
        chat_id="T1001",
        chat_kind=ChatKind.PRIVATE,
        files=(read_local_file(scan),),
    )
    outcome = await app.dispatcher.handle(message)
    assert "附到申请 #1" in outcome.replies[0].text
    opened = await chat.say("O4101", "/application file 1 1")
    assert opened.replies[0].attachment is not None
    assert opened.replies[0].attachment.content == PDF
    assert (await chat.say("O4102", "/application file 1 1")).error
    missing = read_local_file(tmp_path / "nope.pdf")
    assert missing.refused


async def test_closed_applications_lose_their_files_after_the_retention_period(
    app: App, tmp_path: Path
) -> None:
    store_ = file_store(app.settings)
    chat = ConsoleChat(app)
    scan = tmp_path / "a.pdf"
    scan.write_bytes(PDF)
    from bot.adapters.console import ConsoleAdapter

    console = ConsoleAdapter(
        app.runtime, user_id="T1001", stdin=io.StringIO(), stdout=io.StringIO()
    )
    await chat.say("T1001", "/whoami")
    await console.say(f"/file {scan}")
    (kept,) = await files_of(app, 1)
    years = retention_years(app.settings)
    async with app.database.session() as session:
        await session.execute(
            update(BenefitApplication)
            .where(BenefitApplication.id == 1)
            .values(status="rejected", updated_at=utcnow() - timedelta(days=365 * years + 1))
        )
    async with app.database.session() as session:
        assert await purge_evidence(Store(session, SYSTEM), store_, utcnow(), years) == 1
    (gone,) = await files_of(app, 1)
    assert gone.deleted_at is not None
    with pytest.raises(FileNotFoundError):
        store_.get(kept.sha256)
