"""The WeCom directory sync (issue 20, first part): members linked by the roster, a second
run changing nothing, a member who left ended with the reason, and the admin's chat command."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.app import App
from commands import _directory
from storage import identity
from storage.models import AuditEntry, Identity
from storage.store import Actor, Store
from tests.drivers.wecom import WeComChat, running_adapter
from tests.fake_wecom import FakeWeCom

MEMBERS = {
    "D2001": {"name": "陈静", "department": [2]},
    "D2002": {"name": "刘洋", "department": [2, 3]},
    "T1001": {"name": "张伟", "department": [3]},
    "zhaoliu": {"name": "赵六", "department": [3]},  # not on the roster
}


@pytest.fixture
async def wc(app: App) -> AsyncIterator[WeComChat]:
    fake = FakeWeCom(members=dict(MEMBERS))
    await fake.start()
    try:
        async with running_adapter(app, fake) as (adapter, url):
            yield WeComChat(app, fake, adapter, url)
    finally:
        await fake.stop()


async def _sync(wc: WeComChat) -> _directory.SyncReport:
    async with wc.app.database.session() as session:
        report, calls = await _directory.sync(
            Store(session, Actor(None, "cli", "test")), wc.adapter.directory()
        )
    assert calls == 3, "the department list and one call per department"
    return report


async def _linked(app: App) -> dict[str, str | None]:
    async with app.database.session() as session:
        rows = await session.execute(
            select(Identity.platform_user_id, Identity.linked_via).where(
                Identity.platform == "wecom"
            )
        )
        return {uid: via for uid, via in rows}


async def test_members_are_linked_by_staff_number_and_a_second_run_changes_nothing(
    wc: WeComChat,
) -> None:
    first = await _sync(wc)
    assert sorted(no for no, _ in first.linked) == ["D2001", "D2002", "T1001"]
    assert first.not_on_roster == ["zhaoliu"] and "O4001" in first.roster_missing
    assert await _linked(wc.app) == dict.fromkeys(["D2001", "D2002", "T1001"], "directory")
    again = await _sync(wc)
    assert again.linked == [] and again.already == 3 and again.ended == []


async def test_a_member_who_left_is_unlinked_with_the_reason_but_a_code_link_is_kept(
    wc: WeComChat,
) -> None:
    await _sync(wc)
    async with wc.app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        view = await identity.staff_by_no(store, "O4001")
        assert view is not None
        await identity.ensure_identity(store, "wecom", "huangqiang", view.id, via="code")
    del wc.fake.members["T1001"]
    report = await _sync(wc)
    assert report.ended == [("T1001", "T1001")] and report.kept == ["huangqiang"]
    assert set(await _linked(wc.app)) == {"D2001", "D2002", "huangqiang"}
    async with wc.app.database.session() as session:
        unlinks = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "identity.unlink"))
        )
    assert any("visible range" in str(entry.detail.get("reason")) for entry in unlinks)


async def test_an_admin_syncs_in_chat_and_others_may_not(wc: WeComChat) -> None:
    wc.app.dispatcher.directories["wecom"] = wc.adapter.directory()
    try:
        said = await wc.say("A9001", "/wecom sync")
        assert not said.error and "新绑定 3" in said.text, said.text
        denied = await wc.say("T1001", "/wecom sync")
        assert denied.error
    finally:
        wc.app.dispatcher.directories.clear()


async def test_a_send_to_a_member_outside_the_range_ends_the_link(wc: WeComChat) -> None:
    from bot.app import make_deliverer
    from storage import outbox

    await _sync(wc)
    async with wc.app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        view = await identity.staff_by_no(store, "T1001")
        assert view is not None
        await outbox.enqueue(
            store,
            reason="test:gone",
            recipient_id=view.id,
            message_key="identity.link.next",
            why_key="identity.whoami_footer",
            urgent=True,
        )
    wc.fake.outside = {"T1001"}
    deliverer = make_deliverer(wc.app, {"wecom": wc.adapter.send})
    await deliverer.run_once(platforms=["wecom"])
    assert "T1001" not in await _linked(wc.app)
