"""The WeCom directory sync (issue 20): members linked by the roster (staff number, mobile or
email), a second run changing nothing, the member id list read in cursor pages, a member who
left ended with the reason, conflicts reported and left alone, the admin's chat command and
`unionbot wecom sync`, and a congress notice that reaches every delegate who never wrote."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import App, make_deliverer
from commands import _directory
from storage import identity
from storage.demo import DEMO_ROSTER
from storage.directory import SyncReport
from storage.models import AuditEntry, Identity, Staff
from storage.store import Actor, Store
from tests.cli import unionbot_async
from tests.drivers.wecom import WeComChat, replies, running_adapter
from tests.fake_wecom import CONTACTS_SECRET, FakeWeCom, env
from tests.harness import ConsoleChat

MEMBERS = {
    "D2001": {"name": "陈静", "department": [2]},
    "D2002": {"name": "刘洋", "department": [2, 3]},
    "T1001": {"name": "张伟", "department": [3]},
    "zhaoliu": {"name": "赵六", "department": [3]},  # not on the roster
}
EVERYONE = {row[0]: {"name": row[1], "department": [2]} for row in DEMO_ROSTER}
DELEGATES = [row[0] for row in DEMO_ROSTER if row[6] == "yes"]


@asynccontextmanager
async def directory_chat(
    app: App, members: dict[str, dict[str, Any]], **settings: str
) -> AsyncIterator[WeComChat]:
    """A fake WeCom with these members and an adapter on it, its directory known to
    `/wecom sync`."""
    fake = FakeWeCom(members=dict(members))
    await fake.start()
    try:
        async with running_adapter(app, fake, **settings) as (adapter, url):
            app.dispatcher.directories["wecom"] = adapter.directory()
            try:
                yield WeComChat(app, fake, adapter, url)
            finally:
                app.dispatcher.directories.clear()
    finally:
        await fake.stop()


@pytest.fixture
async def wc(any_app: App) -> AsyncIterator[WeComChat]:
    async with directory_chat(any_app, MEMBERS) as chat:
        yield chat


async def _sync(wc: WeComChat, *, calls: int | None = 3, force: bool = False) -> SyncReport:
    async with wc.app.database.session() as session:
        report, made = await _directory.sync(
            Store(session, Actor(None, "cli", "test")), wc.adapter.directory(), force=force
        )
    if calls is not None:
        assert made == calls, "the department list and one call per department"
    return report


async def _linked(app: App) -> dict[str, str | None]:
    async with app.database.session() as session:
        rows = await session.execute(
            select(Identity.platform_user_id, Identity.linked_via).where(
                Identity.platform == "wecom"
            )
        )
        return {uid: via for uid, via in rows}


async def _link_by_code(app: App, user_id: str, staff_no: str) -> None:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        view = await identity.staff_by_no(store, staff_no)
        assert view is not None
        await identity.ensure_identity(store, "wecom", user_id, view.id, via="code")


async def _audit(app: App, action: str) -> list[AuditEntry]:
    async with app.database.session() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# ---------------------------------------------------------------------- by staff number


async def test_members_are_linked_by_staff_number_and_a_second_run_changes_nothing(
    wc: WeComChat,
) -> None:
    first = await _sync(wc)
    assert sorted(no for no, _ in first.linked) == ["D2001", "D2002", "T1001"]
    assert first.not_on_roster == ["zhaoliu"] and "O4001" in first.roster_missing
    assert await _linked(wc.app) == dict.fromkeys(["D2001", "D2002", "T1001"], "directory")
    links = await _audit(wc.app, "identity.link")
    assert len(links) == 3 and all(entry.detail["via"] == "directory" for entry in links)
    assert (
        links[0].detail["reason"]
        == "directory sync: the wecom account's userid is the staff number"
    )
    again = await _sync(wc)
    assert again.linked == [] and again.already == 3 and again.ended == []
    assert len(await _audit(wc.app, "identity.link")) == 3, "nothing new on the record"
    runs = await _audit(wc.app, "directory.sync")
    assert [entry.detail["linked"] for entry in runs] == [3, 0]


async def test_a_member_who_left_is_unlinked_with_the_reason_but_a_code_link_is_kept(
    wc: WeComChat,
) -> None:
    await _sync(wc)
    await _link_by_code(wc.app, "huangqiang", "O4001")
    del wc.fake.members["T1001"]
    report = await _sync(wc)
    assert report.ended == [("T1001", "T1001")] and report.kept == ["huangqiang"]
    assert set(await _linked(wc.app)) == {"D2001", "D2002", "huangqiang"}
    unlinks = await _audit(wc.app, "identity.unlink")
    assert any("visible range" in str(entry.detail.get("reason")) for entry in unlinks)


async def test_a_directory_that_comes_back_nearly_empty_unlinks_no_one_without_force(
    any_app: App,
) -> None:
    async with directory_chat(any_app, EVERYONE) as wc:
        assert len((await _sync(wc, calls=2)).linked) == len(DEMO_ROSTER)
        wc.fake.members = {"A9001": EVERYONE["A9001"]}  # the admin alone: a wrong range
        said = await wc.say("A9001", "/wecom sync")
        assert said.error and f"{len(DEMO_ROSTER)} 个绑定中有 {len(DEMO_ROSTER) - 1} 个" in said
        assert "--force" in said and len(await _linked(any_app)) == len(DEMO_ROSTER)
        forced = await _sync(wc, calls=2, force=True)
        assert len(forced.ended) == len(DEMO_ROSTER) - 1


async def test_an_admin_syncs_in_chat_and_others_may_not(any_app: App) -> None:
    members = MEMBERS | {"A9001": {"name": "系统管理员", "department": [1]}}
    async with directory_chat(any_app, members) as wc:
        said = await wc.say("D2001", "/wecom sync")  # D2001 is linked on writing
        assert said.error and "仅限 系统管理员" in said, said.text
        said = await wc.say("A9001", "/通讯录 同步")
    assert not said.error, said.text
    text = said.text
    assert text.startswith("通讯录同步：企业微信")
    assert "通讯录 5 人：新绑定 2，已绑定 2，解除 0，冲突 0" in text
    assert "新绑定：D2002, T1001" in text and "不在花名册的成员：zhaoliu" in text
    assert "花名册中在通讯录里找不到的人：C3001, C3002" in text and "等，另有 4 个" in text


async def test_a_send_to_a_member_outside_the_range_ends_the_link(wc: WeComChat) -> None:
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


# ---------------------------------------------------------------------- the id list


async def test_the_member_id_list_is_read_in_cursor_pages_with_the_contacts_secret(
    any_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.adapters.wecom.directory.PAGE", 2)
    async with directory_chat(any_app, MEMBERS, WECOM_CONTACTS_SECRET=CONTACTS_SECRET) as wc:
        pairs = sum(len(m["department"]) for m in MEMBERS.values())  # D2002 is in two
        report = await _sync(wc, calls=(pairs + 1) // 2)
        assert sorted(no for no, _ in report.linked) == ["D2001", "D2002", "T1001"]
        assert report.members == 4, "a member in two departments counts once"
        assert wc.fake.calls["/cgi-bin/user/list_id"] == 3
        assert wc.fake.calls["/cgi-bin/department/simplelist"] == 0


async def test_the_id_list_refused_to_the_apps_own_secret_says_what_to_set(
    any_app: App,
) -> None:
    from bot.adapters.wecom.directory import WeComDirectory

    async with directory_chat(any_app, MEMBERS) as wc:
        # the app's own client where the contacts-sync secret's belongs: WeCom says 48002
        wc.app.dispatcher.directories["wecom"] = WeComDirectory(
            wc.adapter.api, "staff_no", contacts=wc.adapter.api
        )
        await _link_by_code(any_app, "admin-wecom", "A9001")
        said = await wc.say("admin-wecom", "/wecom sync")
    assert said.error and "48002" in said and "WECOM_CONTACTS_SECRET" in said, said.text
    assert set(await _linked(any_app)) == {"admin-wecom"}


# ---------------------------------------------------------------------- mobile and email


async def test_members_are_linked_by_mobile_where_the_app_may_read_it(any_app: App) -> None:
    members = {
        "zhangwei": {"name": "张伟", "department": [2], "mobile": "+86 138-0000-1001"},
        "lina": {"name": "李娜", "department": [2], "mobile": "13800001002"},
        "nomobile": {"name": "王芳", "department": [2]},  # this member hides theirs
    }
    async with directory_chat(any_app, members, WECOM_LINK_BY="mobile") as wc:
        report = await _sync(wc, calls=2)
    assert sorted(report.linked) == [("T1001", "zhangwei"), ("T1002", "lina")]
    assert report.not_on_roster == ["nomobile"]


async def test_members_are_linked_by_email(any_app: App) -> None:
    members = {"cj": {"name": "陈静", "department": [2], "email": "ChenJing@demo.edu.cn"}}
    async with directory_chat(any_app, members, WECOM_LINK_BY="email") as wc:
        report = await _sync(wc, calls=2)
    assert report.linked == [("D2001", "cj")]


async def test_when_the_app_may_not_read_mobiles_the_admin_is_told_what_to_grant(
    app: App,
) -> None:
    members = {"zhangwei": {"name": "张伟", "department": [2], "mobile": "13800001001"}}
    async with directory_chat(app, members, WECOM_LINK_BY="mobile") as wc:
        wc.fake.sensitive_readable = False
        await _link_by_code(app, "admin-wecom", "A9001")
        said = await wc.say("admin-wecom", "/wecom sync")
        assert said.error and "成员敏感信息" in said and "WECOM_LINK_BY=staff_no" in said
        assert said.text.count("mobile") >= 1, said.text
        english = await wc.say("admin-wecom", "/lang en")
        assert not english.error
        said = await wc.say("admin-wecom", "/wecom sync")
        assert "sensitive fields" in said and "，" not in said.text, said.text
    assert set(await _linked(app)) == {"admin-wecom"}, "no one linked, nothing ended"


# ---------------------------------------------------------------------- conflicts


async def test_conflicts_are_reported_and_left_alone(any_app: App) -> None:
    async with any_app.database.session() as session:  # two people share one mobile
        await session.execute(
            update(Staff).where(Staff.staff_no == "T1002").values(phone="138 0000 1001")
        )
    members = {
        "zhangwei": {"name": "张伟", "department": [2], "mobile": "13800001001"},
        "wangfang": {"name": "王芳", "department": [2], "mobile": "13800001003"},
        "chenjing": {"name": "陈静", "department": [2], "mobile": "13800002001"},
    }
    async with directory_chat(any_app, members, WECOM_LINK_BY="mobile") as wc:
        await _link_by_code(any_app, "wangfang", "D2002")  # the code says someone else
        report = await _sync(wc, calls=2)
        await _link_by_code(any_app, "admin-wecom", "A9001")
        said = await wc.say("admin-wecom", "/wecom sync")
    conflicts = {(c.kind, c.user_id, c.staff_nos) for c in report.conflicts}
    assert conflicts == {
        ("shared_key", "zhangwei", ("T1001", "T1002")),
        ("linked_elsewhere", "wangfang", ("D2002", "T1003")),
    }
    assert report.linked == [("D2001", "chenjing")]
    linked = await _linked(any_app)
    assert "zhangwei" not in linked and linked["wangfang"] == "code"
    assert "zhangwei 对应花名册中多人（T1001, T1002）" in said, said.text
    assert "冲突 2" in said


# ---------------------------------------------------------------------- the first congress


async def test_a_congress_right_after_the_first_sync_reaches_every_delegate_who_never_wrote(
    any_app: App,
) -> None:
    from tests.test_meetings import create_meeting

    officer = ConsoleChat(any_app)
    async with directory_chat(any_app, EVERYONE) as wc:
        await _sync(wc, calls=2)
        mid = await create_meeting(officer)
        # one delegate leaves the app's visible range before the invitation goes out, and
        # another is removed from the directory and the next sync ends their link
        wc.fake.outside = {"D2003"}
        del wc.fake.members["D2101"]
        assert (await _sync(wc, calls=2)).ended == [("D2101", "D2101")]
        mark = len(wc.fake.sends)
        deliverer = make_deliverer(
            any_app,
            {"wecom": wc.adapter.send},
            batchers={"wecom": (wc.adapter.send_many, wc.adapter.batch_size)},
        )
        await deliverer.run_once(platforms=["wecom"])
        reached = set(DELEGATES) - {"D2003", "D2101"}
        for delegate in sorted(reached):
            seen = await replies(wc.adapter, wc.fake.sent_to(delegate, since=mark))
            assert len(seen) == 1 and "第五届教代会第三次全体会议" in seen[0].text, delegate
            assert [c.command for c in seen[0].choices] == [
                f"/meeting attend {mid}",
                f"/meeting leave {mid}",
            ]
            assert "你收到这条消息，是因为你在这次会议的参会名单中" in seen[0].text, seen[0].text
        assert wc.fake.sent_to("D2003", since=mark) == []
        assert wc.fake.sent_to("D2101", since=mark) == []
        assert set(await _linked(any_app)) == set(EVERYONE) - {"D2003", "D2101"}
    failed = await officer.say("O4001", "/deliveries --status 失败")
    for gone in ("D2003", "D2101"):
        line = next(line for line in failed.text.splitlines() if gone in line)
        assert f"会议 #{mid}" in line and "visible range" in line, failed.text
        assert "no other platform linked" in line


# ---------------------------------------------------------------------- the command line


@pytest.fixture
def wecom_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    def apply(fake: FakeWeCom, **extra: str) -> None:
        for name, value in env(fake.url, **extra).items():
            monkeypatch.setenv(name, value)

    return apply


async def test_unionbot_wecom_sync_prints_the_report_and_json_for_scripts(
    app: App, wecom_env: Any
) -> None:
    url = app.settings.database_url
    fake = FakeWeCom(members=dict(MEMBERS))
    await fake.start()
    try:
        wecom_env(fake, WECOM_CONTACTS_SECRET=CONTACTS_SECRET)
        result = await unionbot_async(url, "--lang", "en", "wecom", "sync")
        assert result.exit_code == 0, result.output
        assert "Directory sync: WeCom" in result.output
        assert "4 in the directory: 3 linked now" in result.output
        assert "Members not on the roster: zhaoliu" in result.output
        again = await unionbot_async(url, "directory", "sync", "wecom", "--json")
        assert again.exit_code == 0, again.output
        report = json.loads(again.stdout)
        assert report["platform"] == "wecom" and report["calls"] == 1
        assert report["counts"]["linked"] == 0 and report["counts"]["already"] == 3
        assert report["not_on_roster"] == ["zhaoliu"]
    finally:
        await fake.stop()
    runs = await _audit(app, "directory.sync")
    assert len(runs) == 2 and runs[0].platform == "cli"


async def test_unionbot_wecom_sync_shows_progress_on_a_terminal(
    app: App, wecom_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import commands._directory_cli as cli

    monkeypatch.setattr(cli, "PROGRESS_THRESHOLD", 1)
    monkeypatch.setattr(cli, "_terminal", lambda: True)
    fake = FakeWeCom(members=dict(MEMBERS))
    await fake.start()
    try:
        wecom_env(fake)
        result = await unionbot_async(app.settings.database_url, "--lang", "en", "wecom", "sync")
    finally:
        await fake.stop()
    assert result.exit_code == 0, result.output
    assert re.search(r"Reading the WeCom directory: 4 members", result.stderr), result.stderr
    assert "Linking to the roster" in result.stderr


async def test_unionbot_wecom_sync_says_what_is_missing(app: App, wecom_env: Any) -> None:
    url = app.settings.database_url
    result = await unionbot_async(url, "--lang", "en", "wecom", "sync")
    assert result.exit_code == 1 and "No platform with a member directory" in result.stderr
    assert "Traceback" not in result.output
    fake = FakeWeCom(members=dict(MEMBERS))
    await fake.start()
    try:
        wecom_env(fake, WECOM_LINK_BY="email")
        fake.sensitive_readable = False
        refused = await unionbot_async(url, "wecom", "sync")
    finally:
        await fake.stop()
    assert refused.exit_code == 1 and "成员敏感信息" in refused.stderr, refused.output


async def test_a_page_of_thousands_of_ids_is_read_whole(app: App) -> None:
    """A long answer comes in many TCP segments: all of them are read, not the first."""
    many = {f"U{i:05d}": {"name": f"成员{i}", "department": [2]} for i in range(5000)}
    async with directory_chat(app, many, WECOM_CONTACTS_SECRET=CONTACTS_SECRET) as wc:
        listing = await wc.adapter.directory().listing()
    assert len(listing.members) == 5000 and listing.calls == 1
