"""Staff clubs and associations (教职工社团/协会, article 3): members, and a leader who may
publish the club's activities to its members (`storage.activities`, audience "club")."""

from __future__ import annotations

from collections.abc import Sequence

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


async def clubs(store: Store) -> list[tuple[Club, int, str]]:
    """Every club with its member count and its leader's name."""
    counts = (
        select(ClubMember.club_id, func.count().label("n")).group_by(ClubMember.club_id).subquery()
    )
    rows = await store.session.execute(
        select(Club, func.coalesce(counts.c.n, 0), Staff.name)
        .outerjoin(counts, counts.c.club_id == Club.id)
        .join(Staff, Staff.id == Club.leader_id)
        .order_by(Club.name)
    )
    return [(club, int(n), leader) for club, n, leader in rows]


async def led_by(store: Store, staff_id: int) -> Sequence[Club]:
    return list(await store.session.scalars(select(Club).where(Club.leader_id == staff_id)))
