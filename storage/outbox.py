"""Enqueueing what the bot says on its own, and the deliveries' life: claim, send, record.

One outbox row per (reason, recipient), one delivery per linked platform identity;
both unique, so enqueueing twice tells a person once. A delivery is claimed with a
lease: if the sender dies, the lease runs out and another sender takes it again.
That means a message the platform accepted just before a crash may be sent twice
(at-least-once); we prefer a rare repeat to a lost reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    String,
    and_,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.clock import utcnow
from storage.models import ChatGroup, Delivery, Identity, OutboxMessage, Staff
from storage.store import Store
from storage.types import JSONType, UTCDateTime
from storage.upsert import insert_ignore

PENDING, SENT, FAILED, MISSED, CANCELLED = "pending", "sent", "failed", "missed", "cancelled"
STATUSES = (PENDING, SENT, FAILED, MISSED, CANCELLED)
BATCH = 500  # rows per INSERT: well inside both databases' parameter limits
BUTTONS_PARAM = "_choices"  # where a message's buttons are kept in its params
SECTIONS_PARAM = "_sections"  # a digest's sections
ATTACHMENT_PARAM = "_attachment"  # the name of a file made when the message is sent (a chart)


@dataclass(frozen=True, slots=True)
class Button:
    """A button on a message the bot sends on its own: the catalogue key of its label, and
    the command that pressing it runs (exactly what typing the command would do)."""

    label_key: str
    command: str


def with_buttons(params: dict[str, Any], buttons: Sequence[Button]) -> dict[str, Any]:
    """`params` with `buttons` kept beside them, as the row stores them (JSON)."""
    if not buttons:
        return params
    return {**params, BUTTONS_PARAM: [[b.label_key, b.command] for b in buttons]}


def buttons_of(params: dict[str, Any]) -> list[Button]:
    """The buttons a queued message carries."""
    stored = params.get(BUTTONS_PARAM) or []
    return [Button(str(label_key), str(command)) for label_key, command in stored]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a section: a catalogue key and its params, and the command that acts
    on it (shown next to it)."""

    key: str
    params: dict[str, Any]
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Section:
    """A titled group of lines in a message (a digest's "overdue proposals")."""

    key: str
    params: dict[str, Any]
    lines: tuple[Line, ...]


def with_sections(params: dict[str, Any], sections: Sequence[Section]) -> dict[str, Any]:
    """`params` with `sections` kept beside them, as JSON."""
    return {
        **params,
        SECTIONS_PARAM: [
            [s.key, s.params, [[line.key, line.params, line.command] for line in s.lines]]
            for s in sections
        ],
    }


def sections_of(params: dict[str, Any]) -> list[Section]:
    """The sections a queued message carries."""
    return [
        Section(
            str(key),
            dict(section_params),
            tuple(Line(str(k), dict(p), c) for k, p, c in lines),
        )
        for key, section_params, lines in params.get(SECTIONS_PARAM) or []
    ]


async def enqueue(
    store: Store,
    *,
    reason: str,
    recipient_id: int,
    message_key: str,
    why_key: str,
    params: dict[str, Any] | None = None,
    urgent: bool = False,
    alert: bool = False,
    not_before: datetime | None = None,
    grace: timedelta | None = None,
) -> bool:
    """Queue a message for every platform the recipient linked; False if it was queued before."""
    queued = await enqueue_many(
        store,
        [Message(reason, recipient_id, message_key, params or {})],
        why_key=why_key,
        urgent=urgent,
        alert=alert,
        not_before=not_before,
        grace=grace,
    )
    return queued == 1


async def tell_each(
    store: Store,
    recipients: Sequence[int],
    *,
    reason: str,
    message_key: str,
    why_key: str,
    params: dict[str, Any],
    urgent: bool = False,
    alert: bool = False,
) -> None:
    """One message to each recipient, once each, but not to the person acting: nobody is
    told about what they just did themselves."""
    for staff_id in dict.fromkeys(recipients):
        if staff_id != store.actor.staff_id:
            await enqueue(
                store,
                reason=reason,
                recipient_id=staff_id,
                message_key=message_key,
                why_key=why_key,
                params=params,
                urgent=urgent,
                alert=alert,
            )


@dataclass(frozen=True, slots=True)
class Message:
    reason: str
    recipient_id: int
    message_key: str
    params: dict[str, Any]


async def enqueue_many(
    store: Store,
    messages: list[Message],
    *,
    why_key: str,
    urgent: bool = False,
    alert: bool = False,
    not_before: datetime | None = None,
    grace: timedelta | None = None,
) -> int:
    """Queue many at once (a reminder for a whole congress): a few statements, not a few per
    person. Returns how many were new; repeats are ignored by the unique constraints."""
    if not messages:
        return 0
    now = utcnow()
    when = not_before or now
    grace_seconds = int(grace.total_seconds()) if grace is not None else None
    inserted = 0
    for start in range(0, len(messages), BATCH):
        batch = messages[start : start + BATCH]
        inserted += await insert_ignore(
            store.session,
            OutboxMessage,
            [
                {
                    "reason": m.reason,
                    "recipient_id": m.recipient_id,
                    "message_key": m.message_key,
                    "why_key": why_key,
                    "params": m.params,
                    "urgent": urgent,
                    "alert": alert,
                    "created_at": now,
                    "not_before": when,
                    "grace_seconds": grace_seconds,
                }
                for m in batch
            ],
            conflict=("reason", "recipient_id"),
        )
        keys = {(m.reason, m.recipient_id) for m in batch}
        rows = await store.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.reason,
                OutboxMessage.recipient_id,
                Identity.platform,
                Identity.platform_user_id,
                Identity.address,
            )
            .join(Identity, Identity.staff_id == OutboxMessage.recipient_id)
            .where(
                OutboxMessage.reason.in_({m.reason for m in batch}),
                OutboxMessage.recipient_id.in_({m.recipient_id for m in batch}),
            )
        )
        await insert_ignore(
            store.session,
            Delivery,
            [
                {
                    "outbox_id": row.id,
                    "platform": row.platform,
                    "platform_user_id": row.platform_user_id,
                    "address": row.address,
                    "status": PENDING,
                    "attempts": 0,
                    "due_at": when,
                }
                for row in rows
                if (row.reason, row.recipient_id) in keys
            ],
            conflict=("outbox_id", "platform", "platform_user_id"),
        )
    return inserted


async def announce(
    store: Store,
    group: ChatGroup,
    *,
    reason: str,
    message_key: str,
    why_key: str,
    params: dict[str, Any],
) -> bool:
    """Queue an announcement to a registered group chat (a meeting of its delegation or
    sub-union), once per (reason, group). It must hold nothing personal: a group reads
    it. False if it was queued before."""
    now = utcnow()
    added = await insert_ignore(
        store.session,
        OutboxMessage,
        [
            {
                "reason": reason,
                "recipient_id": None,
                "group_id": group.id,
                "message_key": message_key,
                "why_key": why_key,
                "params": params,
                "urgent": False,
                "alert": False,
                "created_at": now,
                "not_before": now,
                "grace_seconds": None,
            }
        ],
        conflict=("reason", "group_id"),
    )
    outbox_id = await store.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.reason == reason, OutboxMessage.group_id == group.id
        )
    )
    await insert_ignore(
        store.session,
        Delivery,
        [
            {
                "outbox_id": outbox_id,
                "platform": group.platform,
                "platform_user_id": group.chat_id,
                "address": group.chat_id,
                "status": PENDING,
                "attempts": 0,
                "due_at": now,
            }
        ],
        conflict=("outbox_id", "platform", "platform_user_id"),
    )
    return added == 1


BACKFILL_WINDOW = timedelta(days=7)


async def backfill(
    store: Store, staff_id: int, platform: str, platform_user_id: str, address: str | None
) -> int:
    """A newly linked platform gets what this person was sent lately and has not seen anywhere."""
    return await backfill_many(store, platform, [(staff_id, platform_user_id)], address)


async def backfill_many(
    store: Store,
    platform: str,
    linked: Sequence[tuple[int, str]],
    address: str | None = None,
) -> int:
    """`backfill` for many people newly linked on one platform, in two statements."""
    if not linked:
        return 0
    user_of = dict(linked)
    since = utcnow() - BACKFILL_WINDOW
    delivered = select(Delivery.outbox_id).where(Delivery.status == SENT)
    missed = list(
        await store.session.execute(
            select(OutboxMessage.id, OutboxMessage.recipient_id, OutboxMessage.not_before).where(
                OutboxMessage.recipient_id.in_(list(user_of)),
                OutboxMessage.created_at > since,
                OutboxMessage.withdrawn.is_(False),
                OutboxMessage.id.not_in(delivered),
            )
        )
    )
    return await insert_ignore(
        store.session,
        Delivery,
        [
            {
                "outbox_id": row.id,
                "platform": platform,
                "platform_user_id": user_of[row.recipient_id],
                "address": address,
                "status": PENDING,
                "attempts": 0,
                "due_at": row.not_before,
            }
            for row in missed
        ],
        conflict=("outbox_id", "platform", "platform_user_id"),
    )


@dataclass(frozen=True, slots=True)
class DeliveryJob:
    delivery_id: int
    platform: str
    platform_user_id: str
    address: str | None
    message_key: str
    why_key: str
    params: dict[str, Any]
    language: str | None
    timezone: str | None
    attempts: int
    urgent: bool = False
    not_before: datetime | None = None
    grace_seconds: int | None = None


async def claim_due(
    store: Store,
    *,
    platforms: list[str],
    lease: timedelta,
    limit: int = 100,
    platform_user_id: str | None = None,
) -> list[DeliveryJob]:
    """Take up to `limit` due deliveries for these platforms under a lease (committed by caller)."""
    now = utcnow()
    claimable = and_(
        Delivery.status == PENDING,
        Delivery.due_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    )
    query = (
        select(Delivery.id)
        .where(claimable, Delivery.platform.in_(platforms))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
    )
    if platform_user_id is not None:
        query = query.where(Delivery.platform_user_id == platform_user_id)
    claimed: list[int] = []
    if store.session.bind is not None and store.session.bind.dialect.name == "postgresql":
        # Rows another sender is claiming right now are skipped, not waited for.
        claimed = list(await store.session.scalars(query.with_for_update(skip_locked=True)))
        if claimed:
            await store.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(claimed))
                .values(lease_until=now + lease, attempts=Delivery.attempts + 1)
            )
    else:
        # SQLite has one writer; a conditional update tells us whether we won each row.
        for delivery_id in list(await store.session.scalars(query)):
            result = await store.session.execute(
                update(Delivery)
                .where(Delivery.id == delivery_id, claimable)
                .values(lease_until=now + lease, attempts=Delivery.attempts + 1)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(delivery_id)
    if not claimed:
        return []
    rows = await store.session.execute(
        select(
            Delivery.id,
            Delivery.platform,
            Delivery.platform_user_id,
            Delivery.address,
            Delivery.attempts,
            OutboxMessage.message_key,
            OutboxMessage.why_key,
            OutboxMessage.params,
            Staff.language,
            Staff.timezone,
            OutboxMessage.urgent,
            OutboxMessage.not_before,
            OutboxMessage.grace_seconds,
        )
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
        .outerjoin(Staff, Staff.id == OutboxMessage.recipient_id)  # none for a group
        .where(Delivery.id.in_(claimed))
        .order_by(Delivery.due_at, Delivery.id)
    )
    return [
        DeliveryJob(
            delivery_id=row.id,
            platform=row.platform,
            platform_user_id=row.platform_user_id,
            address=row.address,
            message_key=row.message_key,
            why_key=row.why_key,
            params=dict(row.params or {}),
            language=row.language,
            timezone=row.timezone,
            attempts=row.attempts,
            urgent=row.urgent,
            not_before=row.not_before,
            grace_seconds=row.grace_seconds,
        )
        for row in rows
    ]


async def reroute_unserved(store: Store, served: set[str], older_than: timedelta) -> int:
    """Deliveries for a platform that no running instance sends on (a console notice while
    only Telegram runs) do not wait for ever: after `older_than` each goes to another
    platform the person is linked on that is served, and is recorded as missed with the
    reason, which `unionbot deliveries` shows. Returns how many were rerouted or ended."""
    now = utcnow()
    stale = list(
        await store.session.execute(
            select(
                Delivery.id,
                Delivery.outbox_id,
                Delivery.platform,
                OutboxMessage.recipient_id,
            )
            .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
            .where(
                Delivery.status == PENDING,
                Delivery.platform.not_in(sorted(served)),
                Delivery.due_at < now - older_than,
            )
            .limit(BATCH)
        )
    )
    if not stale:
        return 0
    people = {row.recipient_id for row in stale if row.recipient_id is not None}
    elsewhere: dict[int, list[tuple[str, str, str | None]]] = {}
    for staff_id, platform, user_id, address in await store.session.execute(
        select(Identity.staff_id, Identity.platform, Identity.platform_user_id, Identity.address)
        .where(Identity.staff_id.in_(people), Identity.platform.in_(sorted(served)))
        .order_by(Identity.id)
    ):
        elsewhere.setdefault(staff_id, []).append((platform, user_id, address))
    for row in stale:
        other = elsewhere.get(row.recipient_id or -1, [])
        await insert_ignore(
            store.session,
            Delivery,
            [
                {
                    "outbox_id": row.outbox_id,
                    "platform": platform,
                    "platform_user_id": user_id,
                    "address": address,
                    "status": PENDING,
                    "attempts": 0,
                    "due_at": now,
                }
                for platform, user_id, address in other[:1]
            ],
            conflict=("outbox_id", "platform", "platform_user_id"),
        )
        reason = f"no running instance sends on {row.platform}"
        reason += f"; sent through {other[0][0]} instead" if other else "; no other platform linked"
        await mark_missed(store, row.id, reason)
    return len(stale)


async def reroute_gone(
    store: Store, platform: str, platform_user_id: str, reason: str, also: Sequence[int] = ()
) -> int:
    """An account the platform no longer knows (it left the corp or the app's visible range):
    its pending deliveries, and `also` (the one that just found out), go to another platform
    the person is linked on, or fail for good with the reason. Returns how many."""
    ended = list(
        await store.session.execute(
            select(Delivery.id, Delivery.outbox_id, Delivery.status, OutboxMessage.recipient_id)
            .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
            .where(
                Delivery.platform == platform,
                Delivery.platform_user_id == platform_user_id,
                or_(Delivery.status == PENDING, Delivery.id.in_(list(also))),
            )
        )
    )
    people = {row.recipient_id for row in ended if row.recipient_id is not None}
    elsewhere: dict[int, tuple[str, str, str | None]] = {}
    for staff_id, other, user_id, address in await store.session.execute(
        select(Identity.staff_id, Identity.platform, Identity.platform_user_id, Identity.address)
        .where(Identity.staff_id.in_(people), Identity.platform != platform)
        .order_by(Identity.id)
    ):
        elsewhere.setdefault(staff_id, (other, user_id, address))
    now = utcnow()
    for row in ended:
        other_identity = elsewhere.get(row.recipient_id or -1)
        if other_identity is not None:
            other, user_id, address = other_identity
            await insert_ignore(
                store.session,
                Delivery,
                [
                    {
                        "outbox_id": row.outbox_id,
                        "platform": other,
                        "platform_user_id": user_id,
                        "address": address,
                        "status": PENDING,
                        "attempts": 0,
                        "due_at": now,
                    }
                ],
                conflict=("outbox_id", "platform", "platform_user_id"),
            )
        where = (
            f"sent through {other_identity[0]} instead"
            if other_identity
            else "no other platform linked"
        )
        await mark_failed(store, row.id, f"{reason}; {where}")
    return len(ended)


async def renew(store: Store, delivery_ids: Sequence[int], lease: timedelta) -> None:
    """A sender still working on these deliveries keeps its claim on them."""
    if not delivery_ids:
        return
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(delivery_ids)), Delivery.status == PENDING)
        .values(lease_until=utcnow() + lease)
    )


async def mark_sent(
    store: Store, delivery_id: int, message_id: str | None, late: bool = False
) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(
            status=SENT,
            sent_at=utcnow(),
            platform_message_id=message_id,
            lease_until=None,
            late=late,
        )
    )


async def mark_missed(store: Store, delivery_id: int, reason: str) -> None:
    """Past its grace: recorded, never sent days late."""
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=MISSED, lease_until=None, last_error=reason[:2000], ended_at=utcnow())
    )


async def defer(store: Store, delivery_id: int, until: datetime, reason: str) -> None:
    """Not now (quiet hours): due again later, and this claim does not count as an attempt."""
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(
            due_at=until, lease_until=None, last_error=reason[:2000], attempts=Delivery.attempts - 1
        )
    )


async def cancel_pending(
    store: Store, reason_prefix: str, recipients: Sequence[int] | None = None
) -> int:
    """What is no longer true (a meeting moved or cancelled, someone no longer invited) is
    not sent: to anyone, or only to `recipients`."""
    if recipients is not None and not recipients:
        return 0
    escaped = reason_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    outboxes = select(OutboxMessage.id).where(OutboxMessage.reason.like(escaped + "%", escape="\\"))
    if recipients is not None:
        outboxes = outboxes.where(OutboxMessage.recipient_id.in_(list(recipients)))
    await store.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(outboxes)).values(withdrawn=True)
    )
    result = await store.session.execute(
        update(Delivery)
        .where(Delivery.status == PENDING, Delivery.outbox_id.in_(outboxes))
        .values(status=CANCELLED, lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def mark_retry(store: Store, delivery_id: int, after: timedelta, reason: str) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(due_at=utcnow() + after, lease_until=None, last_error=reason[:2000])
    )


async def mark_failed(store: Store, delivery_id: int, reason: str) -> None:
    await store.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(status=FAILED, lease_until=None, last_error=reason[:2000], ended_at=utcnow())
    )


async def counts_by_status(store: Store) -> dict[str, int]:
    rows = await store.session.execute(
        select(Delivery.status, func.count()).group_by(Delivery.status)
    )
    return {status: count for status, count in rows}


@dataclass(frozen=True, slots=True)
class QueueLine:
    """One delivery in the queue report: when, its state, where, to whom, what about, why."""

    at: datetime
    status: str
    platform: str
    staff_no: str
    reason: str  # what the message is about: "meeting:3:remind:1440:...", "proposal:5:assigned"
    error: str

    @property
    def subject(self) -> tuple[str, str, str]:
        """(kind, id, occasion) of what the message is about: ("meeting", "3", "remind")."""
        kind, _, rest = self.reason.partition(":")
        ident, _, occasion = rest.partition(":")
        return kind, ident, occasion.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class Unlinked:
    """Someone messages wait for because no chat account of theirs is linked yet."""

    name: str
    staff_no: str
    messages: int


@dataclass(frozen=True, slots=True)
class QueueReport:
    counts: dict[str, int]
    oldest_pending: datetime | None
    failures: list[QueueLine]  # the last of the state asked for (else failed and missed)
    # Messages of the backfill window with no delivery at all (nobody to send them to), and
    # the people they wait for, most first: they arrive when those people link an account.
    unlinked_messages: int = 0
    unlinked_people: int = 0
    unlinked: list[Unlinked] = field(default_factory=list)


async def report(store: Store, status: str | None = None, limit: int = 10) -> QueueReport:
    """The queue at a glance: how many in each state, the oldest waiting, the last failures."""
    counts = await counts_by_status(store)
    oldest = await store.session.scalar(
        select(func.min(Delivery.due_at)).where(Delivery.status == PENDING)
    )
    wanted = [status] if status else [FAILED, MISSED]
    rows = await store.session.execute(
        select(
            Delivery.sent_at,
            Delivery.due_at,
            Delivery.status,
            Delivery.platform,
            Staff.staff_no,
            Delivery.last_error,
            OutboxMessage.reason,
        )
        .join(OutboxMessage, OutboxMessage.id == Delivery.outbox_id)
        .outerjoin(Staff, Staff.id == OutboxMessage.recipient_id)
        .where(Delivery.status.in_(wanted))
        .order_by(Delivery.due_at.desc(), Delivery.id.desc())
        .limit(limit)
    )
    failures = [
        QueueLine(sent or due, state, platform, staff_no or "group", reason, error or "")
        for sent, due, state, platform, staff_no, error, reason in rows
    ]
    waiting = (
        select(OutboxMessage.recipient_id)
        .where(
            OutboxMessage.created_at > utcnow() - BACKFILL_WINDOW,  # ix_outbox_created
            OutboxMessage.recipient_id.is_not(None),
            OutboxMessage.withdrawn.is_(False),
            ~exists().where(Delivery.outbox_id == OutboxMessage.id),
        )
        .subquery()
    )
    messages, people = (
        await store.session.execute(
            select(func.count(), func.count(distinct(waiting.c.recipient_id)))
        )
    ).one()
    unlinked = [
        Unlinked(name, staff_no, count)
        for name, staff_no, count in await store.session.execute(
            select(Staff.name, Staff.staff_no, func.count())
            .join(waiting, waiting.c.recipient_id == Staff.id)
            .group_by(Staff.id, Staff.name, Staff.staff_no)
            .order_by(func.count().desc(), Staff.staff_no)
            .limit(limit)
        )
    ]
    return QueueReport(counts, oldest, failures, messages, people, unlinked)


async def enqueue_select(
    store: Store,
    recipients: Select[Any],
    *,
    reason: str,
    message_key: str,
    why_key: str,
    params: dict[str, Any],
    urgent: bool = False,
    not_before: datetime | None = None,
    grace: timedelta | None = None,
) -> int:
    """Queue one message for everyone `recipients` selects, inside the database: two
    INSERT ... SELECT statements whatever the number of people (a whole congress)."""
    now = utcnow()
    when = not_before or now
    people = recipients.subquery()
    staff_id = next(iter(people.c))
    dialect = store.session.bind.dialect.name if store.session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = select(
        literal(reason, String()),
        staff_id,
        literal(message_key, String()),
        literal(why_key, String()),
        literal(params, JSONType),
        literal(urgent, Boolean()),
        literal(now, UTCDateTime()),
        literal(when, UTCDateTime()),
        literal(int(grace.total_seconds()) if grace is not None else None, Integer()),
    ).where(true())  # SQLite needs a WHERE to read ON CONFLICT after a SELECT
    added = await store.session.execute(
        insert(OutboxMessage)
        .from_select(
            [
                "reason",
                "recipient_id",
                "message_key",
                "why_key",
                "params",
                "urgent",
                "created_at",
                "not_before",
                "grace_seconds",
            ],
            rows,
        )
        .on_conflict_do_nothing(index_elements=["reason", "recipient_id"])
        .returning(OutboxMessage.id)
    )
    inserted = len(added.all())
    fan = (
        select(
            OutboxMessage.id,
            Identity.platform,
            Identity.platform_user_id,
            Identity.address,
            literal(PENDING, String()),
            literal(0, Integer()),
            literal(when, UTCDateTime()),
            literal(False, Boolean()),
        )
        .join(Identity, Identity.staff_id == OutboxMessage.recipient_id)
        .where(OutboxMessage.reason == reason)
    )
    await store.session.execute(
        insert(Delivery)
        .from_select(
            [
                "outbox_id",
                "platform",
                "platform_user_id",
                "address",
                "status",
                "attempts",
                "due_at",
                "late",
            ],
            fan,
        )
        .on_conflict_do_nothing(index_elements=["outbox_id", "platform", "platform_user_id"])
    )
    return inserted
