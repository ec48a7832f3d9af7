"""The outbox contract: enqueued once per (reason, recipient), delivered per platform, outcomes kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app import App, make_deliverer
from bot.delivery import Recipient, SendResult
from bot.replies import Reply
from storage import identity, outbox
from storage.models import Delivery, OutboxMessage
from storage.store import SYSTEM, Actor, Store


async def link(app: App, staff_no: str, platform: str, user_id: str) -> int:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli"))
        view = await identity.staff_by_no(store, staff_no)
        assert view is not None
        await identity.ensure_identity(store, platform, user_id, view.id)
        return view.id


async def enqueue(app: App, recipient: int, reason: str = "test:1") -> bool:
    async with app.database.session() as session:
        return await outbox.enqueue(
            Store(session, SYSTEM),
            reason=reason,
            recipient_id=recipient,
            message_key="identity.link.done",
            why_key="identity.whoami_footer",
            params={
                "name": "<b>陈静</b>",
                "staff_no": "D2001",
                "_choices": [["help.title", "/help"]],
            },
        )


async def deliveries(app: App) -> list[Delivery]:
    async with app.database.session() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_enqueued_once_and_fanned_out_per_platform(any_app: App) -> None:
    staff_id = await link(any_app, "D2001", "slack", "U1")
    await link(any_app, "D2001", "telegram", "42")
    assert await enqueue(any_app, staff_id) is True
    assert await enqueue(any_app, staff_id) is False, "the same reason for the same person: once"
    async with any_app.database.session() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == 1
    assert sorted(d.platform for d in await deliveries(any_app)) == ["slack", "telegram"]


async def test_deliverer_sends_retries_and_fails_with_reasons(any_app: App) -> None:
    staff_id = await link(any_app, "D2001", "slack", "U1")
    await link(any_app, "D2001", "telegram", "42")
    await enqueue(any_app, staff_id)
    sent: list[tuple[Recipient, Reply]] = []

    async def slack(recipient: Recipient, reply: Reply) -> SendResult:
        sent.append((recipient, reply))
        return SendResult.retry(30, "rate limited") if len(sent) == 1 else SendResult.sent("ts-1")

    async def telegram(recipient: Recipient, reply: Reply) -> SendResult:
        return SendResult.failed("blocked by user")

    deliverer = make_deliverer(any_app, {"slack": slack, "telegram": telegram})
    assert await deliverer.run_once() == 0
    state = {d.platform: d for d in await deliveries(any_app)}
    assert state["slack"].status == "pending" and state["slack"].last_error == "rate limited"
    assert (
        state["telegram"].status == "failed" and state["telegram"].last_error == "blocked by user"
    )
    assert await deliverer.run_once() == 0, "not due again before Retry-After"

    async with any_app.database.session() as session:
        delivery = await session.get(Delivery, state["slack"].id)
        assert delivery is not None
        delivery.due_at = delivery.due_at - timedelta(seconds=31)
    assert await deliverer.run_once() == 1
    state = {d.platform: d for d in await deliveries(any_app)}
    assert state["slack"].status == "sent" and state["slack"].platform_message_id == "ts-1"
    recipient, reply = sent[-1]
    assert recipient.user_id == "U1"
    assert "<b>陈静</b>" in reply.text, "user text stays plain text; adapters escape it"
    assert reply.footer and "更新名册" in reply.footer, "every notification says why"
    assert reply.choices[0].command == "/help" and reply.private


async def test_a_claimed_delivery_is_not_claimed_twice(any_app: App) -> None:
    staff_id = await link(any_app, "T1001", "slack", "U9")
    await enqueue(any_app, staff_id)
    async with any_app.database.session() as session:
        first = await outbox.claim_due(
            Store(session, SYSTEM), platforms=["slack"], lease=timedelta(minutes=2)
        )
    async with any_app.database.session() as session:
        second = await outbox.claim_due(
            Store(session, SYSTEM), platforms=["slack"], lease=timedelta(minutes=2)
        )
    assert len(first) == 1 and second == []
    async with any_app.database.session() as session:
        delivery = await session.get(Delivery, first[0].delivery_id)
        assert delivery is not None
        delivery.lease_until = delivery.due_at - timedelta(seconds=1)  # the sender died
    async with any_app.database.session() as session:
        again = await outbox.claim_due(
            Store(session, SYSTEM), platforms=["slack"], lease=timedelta(minutes=2)
        )
    assert [job.delivery_id for job in again] == [first[0].delivery_id]
    assert again[0].attempts == 2


async def test_drain_sends_everything_once_with_overlapping_workers(any_app: App) -> None:
    staff_id = await link(any_app, "T1001", "slack", "U7")
    async with any_app.database.session() as session:
        await outbox.enqueue_many(
            Store(session, SYSTEM),
            [
                outbox.Message(
                    f"drain:{i}",
                    staff_id,
                    "identity.link.done",
                    {"name": f"n{i}", "staff_no": "T1001"},
                )
                for i in range(30)
            ],
            why_key="identity.whoami_footer",
            urgent=True,
        )
    seen: list[str] = []

    async def slack(recipient: Recipient, reply: Reply) -> SendResult:
        seen.append(reply.text)
        return SendResult.sent(str(len(seen)))

    deliverer = make_deliverer(any_app, {"slack": slack})
    assert await deliverer.drain(workers=3, limit=4) == 30
    assert len(seen) == 30 == len(set(seen))
