"""A platform's member directory reconciled with the roster, which is the truth: who is
linked now, who already was, who is missing on either side, what conflicts.

The sync links a member when exactly one active person on the roster has their key (the
account id as staff number, the mobile, or the email); it never changes a link that a
person made with an invite code, and reports a conflict instead. An account that is no
longer in a complete directory has left the corp or the app's visible range: its link
ends, with the reason, and what waits for it goes elsewhere (`identity.end_link`), unless
an invite code made it (kept, and reported). Every link made or ended is in the audit log.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from storage import audit, identity, outbox
from storage.clock import utcnow
from storage.linking import ROSTER_FIELDS, normalise_mobile
from storage.models import Identity, Staff
from storage.store import Store
from storage.upsert import insert_ignore

BATCH = 500
MATCHED = {  # why the sync linked an account, for the audit log
    "staff_no": "userid is the staff number",
    "mobile": "mobile is the roster's",
    "email": "email is the roster's",
}
LEFT = "left the corp or the app's visible range (directory sync)"
# A sync that would end more links than this share of them (and more than a few) stops:
# a directory that came back half empty must not unlink half the university.
MAX_ENDED_SHARE = 0.2
MAX_ENDED_ALWAYS = 10


@dataclass(frozen=True, slots=True)
class Entry:
    """One member as the platform's directory gives them."""

    user_id: str
    name: str = ""
    mobile: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str  # "shared_key": several roster people have it; "linked_elsewhere"
    user_id: str
    staff_nos: tuple[str, ...]


@dataclass
class SyncReport:
    members: int = 0
    linked: list[tuple[str, str]] = field(default_factory=list)  # (staff_no, user_id)
    already: int = 0
    ended: list[tuple[str, str]] = field(default_factory=list)  # (staff_no, user_id)
    roster_missing: list[str] = field(default_factory=list)  # staff_nos not in the directory
    not_on_roster: list[str] = field(default_factory=list)  # user_ids
    conflicts: list[Conflict] = field(default_factory=list)
    # not in the directory, but linked with an invite code: kept (a send that the platform
    # refuses for that account ends it)
    kept: list[str] = field(default_factory=list)


class TooManyEnded(Exception):
    """The sync would end more links than it trusts a directory to say: nothing was done."""

    def __init__(self, gone: int, linked: int) -> None:
        super().__init__(f"{gone} of {linked} linked accounts are not in the directory")
        self.gone = gone
        self.linked = linked


def _key(field_name: str, value: str | None) -> str:
    if not value:
        return ""
    if field_name == "mobile":
        return normalise_mobile(value)
    return value.strip().lower()


async def reconcile(
    store: Store,
    platform: str,
    field_name: str,
    entries: Sequence[Entry],
    *,
    complete: bool = True,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Link the directory's members to the roster by `field_name` (or link no one: "code"),
    and end the links of accounts gone from a `complete` directory."""
    if field_name not in (*ROSTER_FIELDS, "code"):
        raise ValueError(f"cannot link by {field_name!r}")
    report = SyncReport(members=len(entries))
    roster = list(
        await store.session.execute(
            select(Staff.id, Staff.staff_no, Staff.phone, Staff.email).where(Staff.active.is_(True))
        )
    )
    staff_no_of = {row.id: row.staff_no for row in roster}
    by_key: dict[str, list[int]] = {}
    for row in roster:
        value = {"staff_no": row.staff_no, "mobile": row.phone, "email": row.email}.get(field_name)
        key = _key(field_name, value)
        if key:
            by_key.setdefault(key, []).append(row.id)
    linked = {
        row.platform_user_id: row
        for row in await store.session.execute(
            select(
                Identity.id, Identity.platform_user_id, Identity.staff_id, Identity.linked_via
            ).where(Identity.platform == platform)
        )
    }
    staff_linked = {row.staff_id: uid for uid, row in linked.items()}
    present = {entry.user_id for entry in entries}
    new: list[tuple[int, Entry]] = []
    for entry in entries:
        current = linked.get(entry.user_id)
        if field_name == "code":
            report.already += current is not None
            continue
        value = {"staff_no": entry.user_id, "mobile": entry.mobile, "email": entry.email}[
            field_name
        ]
        matches = by_key.get(_key(field_name, value), [])
        if len(matches) > 1:
            names = tuple(sorted(staff_no_of[m] for m in matches))
            report.conflicts.append(Conflict("shared_key", entry.user_id, names))
            continue
        if not matches:
            if current is None:
                report.not_on_roster.append(entry.user_id)
            else:
                report.already += 1  # linked by a code or by hand: the roster does not say
            continue
        staff_id = matches[0]
        if current is not None:
            if current.staff_id == staff_id:
                report.already += 1
            else:
                report.conflicts.append(
                    Conflict(
                        "linked_elsewhere",
                        entry.user_id,
                        (staff_no_of.get(current.staff_id, "?"), staff_no_of[staff_id]),
                    )
                )
            continue
        other = staff_linked.get(staff_id)
        if other is not None and other in present:
            report.conflicts.append(
                Conflict("linked_elsewhere", entry.user_id, (staff_no_of[staff_id],))
            )
            continue
        staff_linked[staff_id] = entry.user_id
        new.append((staff_id, entry))
    if progress is not None:  # matching is quick; the writing of new links takes the time
        progress(len(entries) - len(new))
    # An empty directory says more of the app's settings than of its members: nothing ends.
    missing = [uid for uid in linked if uid not in present] if complete and entries else []
    report.kept = sorted(uid for uid in missing if linked[uid].linked_via == "code")
    gone = [uid for uid in missing if linked[uid].linked_via != "code"]
    if gone and not force and len(gone) > max(MAX_ENDED_ALWAYS, MAX_ENDED_SHARE * len(linked)):
        raise TooManyEnded(len(gone), len(linked))
    await _link_all(store, platform, field_name, new, report, staff_no_of, progress)
    for uid in gone:
        report.ended.append((staff_no_of.get(linked[uid].staff_id, "?"), uid))
        await identity.end_link(store, platform, uid, LEFT)
    linked_now = set(staff_linked) - {linked[uid].staff_id for uid in gone}
    report.roster_missing = sorted(
        row.staff_no for row in roster if row.id not in linked_now and field_name != "code"
    )
    return report


async def _link_all(
    store: Store,
    platform: str,
    field_name: str,
    new: list[tuple[int, Entry]],
    report: SyncReport,
    staff_no_of: dict[int, str],
    progress: Callable[[int], None] | None,
) -> None:
    """The new links in bulk (a first sync links thousands): the rows, their audit
    entries, and what each person was sent lately, all in a few statements per 500."""
    now = utcnow()
    for start in range(0, len(new), BATCH):
        chunk = new[start : start + BATCH]
        await insert_ignore(
            store.session,
            Identity,
            [
                {
                    "platform": platform,
                    "platform_user_id": entry.user_id,
                    "staff_id": staff_id,
                    "display_name": entry.name[:200],
                    "linked_at": now,
                    "linked_via": "directory",
                }
                for staff_id, entry in chunk
            ],
            conflict=("platform", "platform_user_id"),
        )
        ids = dict(
            (row.platform_user_id, row.id)
            for row in await store.session.execute(
                select(Identity.platform_user_id, Identity.id).where(
                    Identity.platform == platform,
                    Identity.platform_user_id.in_([entry.user_id for _, entry in chunk]),
                )
            )
        )
        for staff_id, entry in chunk:
            await audit.record(
                store,
                "identity.link",
                "identity",
                ids.get(entry.user_id, "?"),
                platform=platform,
                staff_id=staff_id,
                via="directory",
                reason=f"directory sync: the {platform} account's {MATCHED[field_name]}",
            )
            report.linked.append((staff_no_of[staff_id], entry.user_id))
        await outbox.backfill_many(
            store, platform, [(staff_id, entry.user_id) for staff_id, entry in chunk]
        )
        if progress is not None:
            progress(len(chunk))
