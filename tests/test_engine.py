"""The delivery engine: materialisation, misfires, quiet hours, leave effects, codes, quorum,
and exactly-once scheduling with two schedulers on one database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App, make_deliverer
from bot.delivery import Recipient, SendResult
from bot.replies import Reply
from schedules.quiet import parse_window, quiet_until
from schedules.ratelimit import RateLimiter
from schedules.tick import claim_scheduler, tick
from storage import identity, outbox
from storage.clock import utcnow
from storage.db import Database
from storage.meetings import checkin, quorum
from storage.meetings import service as meetings
from storage.models import Delivery, Meeting, OutboxMessage
from storage.store import SYSTEM, Actor, Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


async def link_all(app: App, *staff_nos: str) -> None:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli"))
        for staff_no in staff_nos:
            view = await identity.staff_by_no(store, staff_no)
            assert view is not None
            await identity.ensure_identity(store, "console", staff_no, view.id)


async def new_meeting(
    app: App,
    starts_at: datetime,
    audience: str = "delegation",
    scope: str = "第二代表团",
    created: datetime | None = None,
) -> int:
    async with app.database.session() as session:
        meeting = await meetings.create(
            Store(session, SYSTEM),
            title="教代会",
            kind="congress",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3),
            place="礼堂",
            agenda="",
            audience=audience,
            scope=scope,
        )
        meeting.created_at = created or starts_at - timedelta(days=30)
        return meeting.id


async def reminders(app: App, meeting_id: int) -> list[OutboxMessage]:
    async with app.database.session() as session:
        return list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.reason.like(f"meeting:{meeting_id}:remind:%"))
                .order_by(OutboxMessage.id)
            )
        )


# ---------------------------------------------------------------- pure rules


def test_quorum_arithmetic() -> None:
    assert [quorum.needed(n) for n in (0, 1, 2, 3, 8, 9, 100)] == [0, 1, 2, 3, 6, 7, 67]
    assert quorum.reached(6, 8) and not quorum.reached(5, 8)
    assert not quorum.reached(0, 0)


def test_checkin_code_windows() -> None:
    now = datetime(2026, 11, 24, 8, 0, 10, tzinfo=UTC)
    code, left = checkin.current_code("s3cret", now)
    assert len(code) == 6 and code.isdigit() and left == 20
    assert checkin.is_valid("s3cret", code, now)
    assert checkin.is_valid("s3cret", code, now + timedelta(seconds=45)), "previous window too"
    assert not checkin.is_valid("s3cret", code, now + timedelta(seconds=65))
    assert not checkin.is_valid("other", code, now)
    assert checkin.code_for("s3cret", 1) != checkin.code_for("s3cret", 2)


def test_quiet_hours_in_a_plain_and_a_dst_zone() -> None:
    window = parse_window("22:00-07:30")
    late = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    assert quiet_until(late, SHANGHAI, window) == datetime(2026, 11, 25, 7, 30, tzinfo=SHANGHAI)
    early = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # 06:00 next day in Shanghai
    assert quiet_until(early, SHANGHAI, window) == datetime(2026, 11, 25, 7, 30, tzinfo=SHANGHAI)
    assert quiet_until(datetime(2026, 11, 24, 4, 0, tzinfo=UTC), SHANGHAI, window) is None
    # New York springs forward on 2026-03-08: 23:30 EST on the 7th waits for 07:30 EDT.
    night = datetime(2026, 3, 8, 4, 30, tzinfo=UTC)
    until = quiet_until(night, NEW_YORK, window)
    assert until is not None and until.astimezone(UTC) == datetime(2026, 3, 8, 11, 30, tzinfo=UTC)
    assert quiet_until(late, SHANGHAI, (time(0), time(0))) is None
    with pytest.raises(ValueError):
        parse_window("late-early")


def test_rate_limiter_spaces_messages() -> None:
    limiter = RateLimiter(
        {"UNIONBOT_RATE_TELEGRAM_GLOBAL": "10", "UNIONBOT_RATE_TELEGRAM_PER_CHAT": "2"}
    )
    delays = [limiter.delay("telegram", "chat-1") for _ in range(3)]
    assert delays[0] == 0 and 0.45 < delays[1] <= 0.5 and 0.95 < delays[2] <= 1.0
    assert limiter.delay("telegram", "chat-2") <= 0.31  # only the overall limit applies to it
    assert limiter.delay("unknown-platform", "x") == 0


def test_a_telegram_group_gets_twenty_messages_a_minute() -> None:
    """Telegram's limit for a group is 20 a minute, stricter than its one a second per chat."""
    limiter = RateLimiter()
    delays = [limiter.delay("telegram", "-100123") for _ in range(4)]
    assert delays[0] == 0 and [round(d) for d in delays[1:]] == [3, 6, 9]
    private = [limiter.delay("telegram", "4242") for _ in range(2)]
    assert private[1] <= 1.0, "a private chat keeps one a second"


# ---------------------------------------------------------------- materialisation


async def test_reminders_materialise_once_per_time_and_person(any_app: App) -> None:
    app = any_app
    start = utcnow() + timedelta(hours=20)
    mid = await new_meeting(app, start)
    early = await tick(app.database, SHANGHAI, now=start - timedelta(days=8))
    assert early["reminders"] == 0
    done = await tick(app.database, SHANGHAI, now=start - timedelta(hours=23))
    assert done["reminders"] == 6  # 7-day and 1-day reminders for 3 delegates
    again = await tick(app.database, SHANGHAI, now=start - timedelta(hours=23))
    assert again["reminders"] == 0, "whatever runs twice, nothing is scheduled twice"
    rows = await reminders(app, mid)
    assert {r.reason.split(":")[3] for r in rows} == {str(7 * 24 * 60), str(24 * 60)}
    assert all(r.grace_seconds == 3600 for r in rows)


async def test_dst_zone_meeting_day_reminders_are_urgent(app: App) -> None:
    start = datetime(2099, 3, 8, 10, 0, tzinfo=NEW_YORK)  # DST begins that morning in 2099 too
    mid = await new_meeting(app, start)
    await tick(app.database, NEW_YORK, now=start - timedelta(minutes=119))
    by_offset = {int(r.reason.split(":")[3]): r for r in await reminders(app, mid)}
    assert set(by_offset) == {7 * 24 * 60, 24 * 60, 120}
    assert by_offset[120].urgent and not by_offset[24 * 60].urgent
    assert by_offset[24 * 60].not_before == start - timedelta(hours=24)
    assert by_offset[120].not_before.astimezone(NEW_YORK).hour == 8


async def test_leave_and_rsvp_decide_who_is_reminded_and_how(app: App) -> None:
    start = utcnow() + timedelta(hours=20)
    mid = await new_meeting(app, start)
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        meeting = await session.get(Meeting, mid)
        assert meeting is not None
        ids = await identity.staff_ids_by_no(store, ["D2101", "D2102", "D2103"])
        await meetings.answer(store, meeting, ids["D2102"], attend=False, reason="出差")
        await meetings.decide_leave(store, meeting, "D2102", approve=True)
        await meetings.answer(store, meeting, ids["D2103"], attend=True)
    await tick(app.database, SHANGHAI, now=start - timedelta(hours=23))
    rows = await reminders(app, mid)
    by_person = {r.recipient_id: r for r in rows if r.reason.split(":")[3] == str(24 * 60)}
    assert ids["D2102"] not in by_person, "approved leave: no more reminders"
    assert by_person[ids["D2101"]].message_key == "meetings.notify.remind_rsvp"
    assert by_person[ids["D2101"]].params["_choices"][0][1] == f"/meeting attend {mid}"
    assert by_person[ids["D2103"]].message_key == "meetings.notify.remind"


async def test_misfires_are_missed_or_late(any_app: App) -> None:
    app = any_app
    await link_all(app, "T1001", "T1002")
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        ids = await identity.staff_ids_by_no(store, ["T1001", "T1002"])
        for staff_no, ago in (("T1001", timedelta(hours=2)), ("T1002", timedelta(minutes=30))):
            await outbox.enqueue(
                store,
                reason="test:misfire",
                recipient_id=ids[staff_no],
                message_key="identity.link.next",
                why_key="identity.whoami_footer",
                not_before=utcnow() - ago,
                grace=timedelta(hours=1),
                urgent=True,
            )
    sent: list[Recipient] = []

    async def console(recipient: Recipient, reply: Reply) -> SendResult:
        sent.append(recipient)
        return SendResult.sent("x")

    await make_deliverer(app, {"console": console}).run_once()
    async with app.database.session() as session:
        rows = {d.platform_user_id: d for d in await session.scalars(select(Delivery))}
    assert rows["T1001"].status == "missed" and "misfire" in (rows["T1001"].last_error or "")
    assert rows["T1002"].status == "sent" and rows["T1002"].late
    assert [r.user_id for r in sent] == ["T1002"], "never sent hours late"


async def test_quiet_hours_hold_non_urgent_messages(app: App) -> None:
    await link_all(app, "T1001")
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        ids = await identity.staff_ids_by_no(store, ["T1001"])
        for urgent in (False, True):
            await outbox.enqueue(
                store,
                reason=f"test:quiet:{urgent}",
                recipient_id=ids["T1001"],
                message_key="identity.link.next",
                why_key="identity.whoami_footer",
                urgent=urgent,
            )
    delivered: list[Reply] = []

    async def console(recipient: Recipient, reply: Reply) -> SendResult:
        delivered.append(reply)
        return SendResult.sent("x")

    deliverer = make_deliverer(app, {"console": console})
    deliverer.quiet = parse_window("00:00-23:59")  # it is always night for this test
    await deliverer.run_once()
    assert len(delivered) == 1, "only the urgent one goes out during quiet hours"
    async with app.database.session() as session:
        waiting = await session.scalar(select(Delivery).where(Delivery.status == "pending"))
    assert waiting is not None and waiting.last_error == "quiet hours" and waiting.attempts == 0
    assert waiting.due_at > utcnow()


async def test_quorum_alert_reaches_officers_once(app: App) -> None:
    start = utcnow() + timedelta(hours=10)
    await new_meeting(app, start, audience="delegates", scope="")
    first = await tick(app.database, SHANGHAI)
    second = await tick(app.database, SHANGHAI)
    assert first["quorum_alerts"] == 1 and second["quorum_alerts"] == 0  # O4001 only


async def test_one_scheduler_per_sqlite_database(app: App) -> None:
    assert await claim_scheduler(app.database, "host-a:1")
    assert await claim_scheduler(app.database, "host-a:1"), "renewing is fine"
    assert not await claim_scheduler(app.database, "host-b:2")


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_two_schedulers_on_postgres_schedule_everything_once(any_app: App) -> None:
    app = any_app
    start = utcnow() + timedelta(hours=20)
    mids = [
        await new_meeting(app, start + timedelta(minutes=i), audience="delegates", scope="")
        for i in range(5)
    ]
    other = Database(app.settings.database_url)  # a second instance: its own pool
    try:
        moments = [start - timedelta(hours=23) + timedelta(seconds=i) for i in range(6)]
        results = await asyncio.gather(
            *[tick(db, SHANGHAI, now=moment) for moment in moments for db in (app.database, other)]
        )
    finally:
        await other.dispose()
    assert sum(r.get("reminders", 0) for r in results) == 80, "each reminder counted once"
    async with app.database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.reason.like("meeting:%:remind:%"))
        )
    assert count == len(mids) * 8 * 2  # 8 delegates, the 7-day and the 1-day reminder, once each


async def test_tick_forgets_event_ids_past_the_retry_window_and_expired_button_keys(
    app: App,
) -> None:
    from storage import events
    from storage.models import ChoiceToken, ProcessedEvent

    now = utcnow()
    async with app.database.session() as session:
        session.add_all(
            [
                ProcessedEvent(
                    platform="slack", event_id="Ev-old", received_at=now - timedelta(hours=25)
                ),
                ProcessedEvent(
                    platform="slack", event_id="Ev-new", received_at=now - timedelta(hours=23)
                ),
                ChoiceToken(token="old", command="/x", created_at=now - timedelta(days=31)),
                ChoiceToken(token="new", command="/y", created_at=now - timedelta(days=29)),
            ]
        )
    done = await tick(app.database, SHANGHAI)
    assert done["forgot_event_ids"] == 1 and done["forgot_button_keys"] == 1
    async with app.database.session() as session:
        assert set(await session.scalars(select(ProcessedEvent.event_id))) == {"Ev-new"}
        assert set(await session.scalars(select(ChoiceToken.token))) == {"new"}
    # A ledger started afresh (a restart) knows the kept one and not the forgotten one.
    ledger = events.EventLedger(app.database)
    assert not await ledger.first_time("slack", "Ev-new")
    assert await ledger.first_time("slack", "Ev-old")
    await ledger.close()


async def test_trimming_goes_in_bounded_batches(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import events
    from storage.models import ProcessedEvent

    monkeypatch.setattr(events, "TRIM_BATCH", 10)
    monkeypatch.setattr(events, "TRIM_BATCHES", 3)
    old = utcnow() - timedelta(days=2)
    async with app.database.session() as session:
        session.add_all(
            ProcessedEvent(platform="telegram", event_id=str(n), received_at=old) for n in range(45)
        )
    assert (await events.forget_old(app.database))["event_ids"] == 30, "three batches of ten"
    assert (await events.forget_old(app.database))["event_ids"] == 15, "the next tick goes on"


# ---------------------------------------------------------------- several instances


async def test_instances_share_a_platforms_budget(any_app: App) -> None:
    from storage import senders

    async with any_app.database.session() as session:
        await senders.heartbeat(Store(session, SYSTEM), "other-host:1", ["telegram"])

    async def send(recipient: Recipient, reply: Reply) -> SendResult:
        return SendResult.sent("1")

    limiter = RateLimiter({"UNIONBOT_RATE_TELEGRAM_GLOBAL": "10"})
    deliverer = make_deliverer(any_app, {"telegram": send}, holder="this-host:2")
    deliverer.limiter = limiter
    await deliverer.coordinate()
    delays = [limiter.delay("telegram", f"chat-{i}") for i in range(3)]
    assert 0.19 < delays[1] <= 0.2 and 0.39 < delays[2] <= 0.4, "two instances: 5 a second each"
    await deliverer.stop()
    async with any_app.database.session() as session:
        assert await senders.live(Store(session, SYSTEM), timedelta(minutes=1)) == {"telegram": 1}


async def test_a_delivery_no_instance_can_send_goes_elsewhere(any_app: App) -> None:
    """A console notice while only Telegram runs: after an hour it goes to the person's
    Telegram; with no other platform it ends as missed, saying why."""
    sent: list[Recipient] = []

    async def send(recipient: Recipient, reply: Reply) -> SendResult:
        sent.append(recipient)
        return SendResult.sent("1")

    async with any_app.database.session() as session:
        store = Store(session, SYSTEM)
        both = await identity.staff_by_no(store, "D2001")
        alone = await identity.staff_by_no(store, "D2002")
        assert both is not None and alone is not None
        await identity.ensure_identity(store, "console", "D2001", both.id)
        await identity.ensure_identity(store, "telegram", "4242", both.id)
        await identity.ensure_identity(store, "console", "D2002", alone.id)
        for who in (both, alone):
            await outbox.enqueue(
                store,
                reason=f"test:unserved:{who.staff_no}",
                recipient_id=who.id,
                message_key="identity.link.done",
                why_key="identity.whoami_footer",
                params={"name": who.name, "staff_no": who.staff_no},
                urgent=True,
            )
        await session.execute(
            Delivery.__table__.update()
            .where(Delivery.platform == "console")
            .values(due_at=utcnow() - timedelta(hours=2))
        )
        # Queued for the console only (as before the person linked Telegram).
        await session.execute(Delivery.__table__.delete().where(Delivery.platform == "telegram"))
    deliverer = make_deliverer(any_app, {"telegram": send}, holder="only-telegram:1")
    await deliverer.drain()
    assert [r.user_id for r in sent] == ["4242"]
    async with any_app.database.session() as session:
        report = await outbox.report(Store(session, SYSTEM), "missed")
    why = {line.staff_no: line.error for line in report.failures}
    assert why["D2001"] == "no running instance sends on console; sent through telegram instead"
    assert why["D2002"] == "no running instance sends on console; no other platform linked"
    await deliverer.stop()
