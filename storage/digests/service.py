"""Recording and queueing each digest once, and showing one without recording it.

The tick calls `due`: for everyone whose moment has come it composes the window from
the end of their last digest to that moment, records it under a unique (person,
period), and queues it unless it is empty. Restarted after a missed day, the window
simply reaches back to the last one; two instances cannot both record a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, select

from storage import audit, outbox
from storage.benefits.policy import Pack, PolicyHolder
from storage.clock import utcnow
from storage.digests import alerts, readers, schedule
from storage.digests.compose import BEGINNING, Digest, Window, compose
from storage.digests.readers import Reader
from storage.models import Digest as DigestRow
from storage.store import Store
from storage.upsert import insert_ignore

MESSAGE_KEY = "digests.notify.digest"
FIRST_KEY = "digests.notify.first"  # a first digest has no "since"


def message_key(digest: Digest) -> str:
    return FIRST_KEY if digest.first else MESSAGE_KEY


CHART = "proposal_chart"  # the attachment a weekly digest of proposals carries


@dataclass(frozen=True, slots=True)
class DigestClock:
    """What the clock needs for digests and alerts: the benefits pack in force (None: no
    benefits sections) and after how many days overdue a proposal is alerted."""

    alert_overdue_days: int = 14
    policy: PolicyHolder | None = None

    @property
    def pack(self) -> Pack | None:
        return self.policy.pack if self.policy is not None else None


def why_key(reader: Reader) -> str:
    """Why this person gets a digest: their widest role (the scope is in `scope`)."""
    role = reader.roles[0] if reader.roles else "officer"
    if role == "officer" and not reader.school:
        return "digests.why.sub_union_officer"
    return f"digests.why.{role}"


def scope_of(reader: Reader) -> str:
    """What the widest role is held for: the sub-unions, delegations or departments."""
    role = reader.roles[0] if reader.roles else ""
    held = {"officer": reader.sub_unions, "head": reader.delegations, "handler": reader.departments}
    return " / ".join(sorted(held.get(role, frozenset())))


def message_params(digest: Digest, weekly: bool) -> dict[str, Any]:
    """What the queued digest carries: its window, its sections and (weekly, for those
    who oversee proposals) the chart made when it is sent."""
    params: dict[str, Any] = {
        "_old_at": digest.window.start.isoformat(),
        "_at": digest.window.end.isoformat(),
        "lines": digest.lines,
        "scope": scope_of(digest.reader) or "—",
    }
    if weekly and digest.reader.overseer:
        params[outbox.ATTACHMENT_PARAM] = CHART
    return outbox.with_sections(params, digest.sections)


async def _audit_sensitive(store: Store, digest: Digest) -> None:
    """Naming people in the hardship register is a sensitive read, logged as such."""
    if digest.covered.get("hardship"):
        await audit.record(
            store,
            "hardship.digest",
            "hardship",
            ",".join(str(i) for i in digest.covered["hardship"]),
            purpose="digest of " + digest.reader.staff_no,
        )


async def last_ends(store: Store, staff_ids: list[int]) -> dict[int, datetime]:
    rows = await store.session.execute(
        select(DigestRow.staff_id, func.max(DigestRow.window_end))
        .where(DigestRow.staff_id.in_(staff_ids))
        .group_by(DigestRow.staff_id)
    )
    return {staff_id: end for staff_id, end in rows}


async def due(store: Store, clock: DigestClock, now: datetime, tz: tzinfo) -> int:
    """Compose, record and queue every digest whose moment has come; returns how many
    were queued (empty ones are recorded, not sent)."""
    everyone = await readers.readers(store)
    if not everyone:
        return 0
    ids = [r.staff_id for r in everyone]
    own, by_role = await readers.own_preferences(store, ids), await readers.defaults(store)
    ends = await last_ends(store, ids)
    wanted: list[tuple[Reader, Window, str]] = []
    for reader in everyone:
        preference, _source = readers.effective(reader, own, by_role)
        found = schedule.due(preference, reader.zone(tz), now)
        if found is None:
            continue
        period, moment = found
        start = ends.get(reader.staff_id) or BEGINNING
        if moment > start:
            wanted.append((reader, Window(start, moment), period))
    if not wanted:
        return 0
    taken = set(
        await store.session.execute(
            select(DigestRow.staff_id, DigestRow.period).where(
                DigestRow.staff_id.in_([r.staff_id for r, _w, _p in wanted]),
                DigestRow.period.in_({p for _r, _w, p in wanted}),
            )
        )
    )
    wanted = [(r, w, p) for r, w, p in wanted if (r.staff_id, p) not in taken]
    digests = await compose(store, [(r, w) for r, w, _p in wanted], tz, clock.pack)
    composed_at = utcnow()
    await insert_ignore(
        store.session,
        DigestRow,
        [
            {
                "staff_id": digest.reader.staff_id,
                "period": period,
                "window_start": digest.window.start,
                "window_end": digest.window.end,
                "composed_at": composed_at,
                "covered": digest.covered,
                "lines": digest.lines,
                "sent": not digest.empty,
            }
            for digest, (_r, _w, period) in zip(digests, wanted, strict=True)
        ],
        conflict=("staff_id", "period"),
    )
    by_why: dict[str, list[outbox.Message]] = {}
    for digest, (reader, _window, period) in zip(digests, wanted, strict=True):
        if digest.empty:
            continue
        await _audit_sensitive(store, digest)
        params = message_params(digest, period.startswith(schedule.WEEKLY))
        by_why.setdefault(why_key(reader), []).append(
            outbox.Message(f"digest:{period}", reader.staff_id, message_key(digest), params)
        )
    queued = 0
    for why, messages in by_why.items():
        queued += await outbox.enqueue_many(store, messages, why_key=why)
    return queued


async def preview(
    store: Store, reader: Reader, now: datetime, tz: tzinfo, pack: Pack | None
) -> Digest:
    """The reader's digest if it were composed now, from the end of their last one; the
    window does not move and nothing is queued."""
    start = (await last_ends(store, [reader.staff_id])).get(reader.staff_id) or BEGINNING
    window = Window(min(start, now), now)
    [digest] = await compose(store, [(reader, window)], tz, pack)
    await _audit_sensitive(store, digest)
    await audit.record(store, "digest.preview", "staff", reader.staff_id, lines=digest.lines)
    return digest


async def tick(store: Store, clock: DigestClock, now: datetime, tz: tzinfo) -> dict[str, int]:
    """The clock's share: alerts first, so a digest due now already repeats them."""
    return {
        "overdue_alerts": await alerts.overdue(store, now, tz, clock.alert_overdue_days),
        "digests": await due(store, clock, now, tz),
    }
