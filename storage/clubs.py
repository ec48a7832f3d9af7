"""Staff clubs and associations (教职工社团/协会, article 3): members, and a leader who may
publish the club's activities to its members (`storage.activities`, audience "club")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from storage import audit
from storage.clock import utcnow
from storage.errors import ActivityError
from storage.models import Club, ClubMember, Staff
from storage.store import Store


async def create_club(store: Store, name: str, leader_id: int, description: str = "") -> Club:
    exists = await store.session.scalar(select(Club.id).where(Club.name == name))
    if exists is not None:
        raise ActivityError("activities.error.club_exists", name=name)
    club = Club(name=name, leader_id=leader_id, description=description, created_at=utcnow())
    store.session.add(club)
    await store.session.flush()
    store.session.add(ClubMember(club_id=club.id, staff_id=leader_id, joined_at=utcnow()))
    await audit.record(store, "club.create", "club", club.id, name=name)
    return club


async def join_club(store: Store, club_id: int, staff_id: int) -> Club:
    club = await store.session.get(Club, club_id)
    if club is None:
        raise ActivityError("activities.error.no_club", id=club_id)
    member = await store.session.scalar(
        select(ClubMember.id).where(ClubMember.club_id == club_id, ClubMember.staff_id == staff_id)
    )
    if member is not None:
        raise ActivityError("activities.error.club_member_already", name=club.name)
    store.session.add(ClubMember(club_id=club_id, staff_id=staff_id, joined_at=utcnow()))
    await audit.record(store, "club.join", "club", club_id)
    return club


@dataclass(frozen=True, slots=True)
class ClubLine:
    club: Club
    members: int
    leader: str
    joined: bool  # the reader is a member


async def clubs(store: Store, reader_id: int) -> list[ClubLine]:
    """Every club with its member count, its leader's name, and whether the reader is in it."""
    counts = (
        select(ClubMember.club_id, func.count().label("n")).group_by(ClubMember.club_id).subquery()
    )
    mine = select(ClubMember.club_id).where(ClubMember.staff_id == reader_id)
    rows = await store.session.execute(
        select(Club, func.coalesce(counts.c.n, 0), Staff.name, Club.id.in_(mine))
        .outerjoin(counts, counts.c.club_id == Club.id)
        .join(Staff, Staff.id == Club.leader_id)
        .order_by(Club.name)
    )
    return [ClubLine(club, int(n), leader, bool(joined)) for club, n, leader, joined in rows]


async def led_by(store: Store, staff_id: int) -> Sequence[Club]:
    return list(await store.session.scalars(select(Club).where(Club.leader_id == staff_id)))
