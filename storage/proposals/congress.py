"""Congress sessions (届次): the collection window proposals are filed into."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage import audit
from storage.clock import utcnow
from storage.errors import ProposalError
from storage.models import CongressSession
from storage.store import Store


async def current_session(store: Store) -> CongressSession | None:
    """The newest session: proposals are filed into it."""
    return await store.session.scalar(
        select(CongressSession).order_by(CongressSession.opens_on.desc(), CongressSession.id.desc())
    )


async def session_by_name(store: Store, name: str) -> CongressSession | None:
    return await store.session.scalar(select(CongressSession).where(CongressSession.name == name))


def window_open(session: CongressSession | None, today: date) -> bool:
    """Proposals (not suggestions) can be filed only while the window is open."""
    return (
        session is not None
        and session.closed_at is None
        and session.opens_on <= today <= session.closes_on
    )


async def open_session(store: Store, name: str, opens_on: date, closes_on: date) -> CongressSession:
    """Open (or reopen, with new dates) a session's window. Refuses a window that closes
    before it opens."""
    if closes_on < opens_on:
        raise ProposalError("proposals.error.window_order")
    session = await session_by_name(store, name)
    if session is None:
        session = CongressSession(
            name=name, opens_on=opens_on, closes_on=closes_on, created_at=utcnow()
        )
        store.session.add(session)
    else:
        session.opens_on, session.closes_on, session.closed_at = opens_on, closes_on, None
    await store.session.flush()
    await audit.record(
        store,
        "session.open",
        "congress_session",
        session.id,
        name=name,
        opens_on=opens_on.isoformat(),
        closes_on=closes_on.isoformat(),
    )
    return session


async def close_session(store: Store) -> CongressSession:
    """Close the current window early. Refuses when no window is open."""
    session = await current_session(store)
    if session is None or session.closed_at is not None:
        raise ProposalError("proposals.error.no_open_session")
    session.closed_at = utcnow()
    await audit.record(store, "session.close", "congress_session", session.id)
    return session
