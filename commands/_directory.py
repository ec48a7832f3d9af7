"""A directory sync from end to end, for the chat command, the CLI and the clock alike: the
platform's members read first (no statement runs while the platform is asked), then
reconciled with the roster in the caller's unit of work, the run itself on the record; and
its report in words, or as JSON for scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bot.directory import Directory, Listing, Progress
from storage import audit
from storage.directory import Entry, SyncReport, reconcile
from storage.store import Store

SHOWN = 10  # names listed under each count; the rest is "and N more"


async def sync(
    store: Store,
    directory: Directory,
    *,
    force: bool = False,
    reading: Progress | None = None,
    linking: Progress | None = None,
) -> tuple[SyncReport, int]:
    """The report, and how many API calls reading the directory took."""
    listing = await directory.listing(reading)
    return await apply(store, directory, listing, force=force, linking=linking), listing.calls


async def apply(
    store: Store,
    directory: Directory,
    listing: Listing,
    *,
    force: bool = False,
    linking: Progress | None = None,
) -> SyncReport:
    """A listing already read, reconciled with the roster and put on the record (the CLI
    reads first, to know how long a bar the linking needs)."""
    entries = [Entry(m.user_id, m.name, m.mobile, m.email) for m in listing.members]
    report = await reconcile(
        store,
        directory.platform,
        directory.link_by,
        entries,
        complete=listing.complete,
        force=force,
        progress=(lambda done: linking(done, len(entries))) if linking is not None else None,
    )
    await audit.record(
        store,
        "directory.sync",
        "platform",
        directory.platform,
        link_by=directory.link_by,
        members=report.members,
        linked=len(report.linked),
        ended=len(report.ended),
        conflicts=len(report.conflicts),
        calls=listing.calls,
    )
    return report


def counts(report: SyncReport) -> dict[str, int]:
    return {
        "members": report.members,
        "linked": len(report.linked),
        "already": report.already,
        "ended": len(report.ended),
        "roster_missing": len(report.roster_missing),
        "not_on_roster": len(report.not_on_roster),
        "conflicts": len(report.conflicts),
        "kept": len(report.kept),
    }


def as_json(report: SyncReport, platform: str, calls: int) -> dict[str, Any]:
    return {"platform": platform, "calls": calls, "counts": counts(report), **asdict(report)}


def lines(t: Callable[..., str], report: SyncReport, platform: str) -> list[str]:
    """The report as a person reads it: each count, and the first names under it."""

    def some(items: list[str]) -> str:
        shown = ", ".join(items[:SHOWN])
        rest = len(items) - SHOWN
        return shown + (t("directory.and_more", count=rest) if rest > 0 else "")

    out = [t("directory.summary", platform=platform, **counts(report))]
    if report.linked:
        out.append(t("directory.linked", names=some([no for no, _ in report.linked])))
    if report.ended:
        out.append(t("directory.ended", names=some([f"{no} ({uid})" for no, uid in report.ended])))
    if report.conflicts:
        described = [
            t(f"directory.conflict.{c.kind}", user_id=c.user_id, staff=", ".join(c.staff_nos))
            for c in report.conflicts
        ]
        out.append(t("directory.conflicts", names=some(described)))
    if report.kept:
        out.append(t("directory.kept", names=some(report.kept)))
    if report.not_on_roster:
        out.append(t("directory.not_on_roster", names=some(report.not_on_roster)))
    if report.roster_missing:
        out.append(t("directory.roster_missing", names=some(report.roster_missing)))
    return out
