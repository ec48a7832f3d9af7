"""The clock's tick: what is due becomes outbox rows, done by one instance at a time.

APScheduler only calls `tick` at an interval; the database decides. On PostgreSQL each
tick runs under `pg_try_advisory_xact_lock`, so when several instances tick at once one
does the work and the others skip; and because every reminder lands under a unique
(reason, recipient), even two ticks that both ran would schedule it once. On SQLite a
single instance runs the scheduler, holding a lease (`claim_scheduler`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import text

from storage import activities, events, leases
from storage.benefits import reminders as benefit_reminders
from storage.benefits.reminders import BenefitsClock
from storage.clock import utcnow
from storage.db import Database
from storage.digests import service as digests_service
from storage.digests.service import DigestClock
from storage.meetings import service as meetings
from storage.proposals import reminders as proposal_reminders
from storage.proposals import service as proposals
from storage.store import SYSTEM, Store
from storage.surveys import service as surveys
from storage.votes import service as votes

log = logging.getLogger(__name__)
TICK_LOCK = 0x756E696F6E  # "union": the advisory lock key of the scheduling tick
SCHEDULER_LEASE = "scheduler"
LEASE_TTL = timedelta(minutes=2)


async def claim_scheduler(database: Database, holder: str) -> bool:
    """SQLite: only one instance may run the scheduler; PostgreSQL: every instance may."""
    if not database.sqlite:
        return True
    async with database.session() as session:
        return await leases.acquire(Store(session, SYSTEM), SCHEDULER_LEASE, holder, LEASE_TTL)


async def tick(
    database: Database,
    tz: tzinfo,
    now: datetime | None = None,
    benefits: BenefitsClock | None = None,
    digests: DigestClock | None = None,
) -> dict[str, int]:
    """Materialise what is due; returns what it did, or {} when another instance had the lock."""
    moment = now or utcnow()
    async with database.session() as session:
        if not database.sqlite:
            got = await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": TICK_LOCK}
            )
            if not got:
                return {}
        store = Store(session, SYSTEM)
        done = {
            "reminders": await meetings.due_reminders(store, moment, tz),
            "quorum_alerts": await meetings.quorum_alerts(store, moment),
            "closed_unrated": len(
                await proposals.expire_ratings(store, moment.astimezone(tz).date())
            ),
            "deadline_reminders": await proposal_reminders.due(store, moment, tz),
            "surveys_opened_or_closed": await surveys.close_due(store, moment),
            "survey_reminders": await surveys.due_reminders(store, moment),
            "activity_reminders": await activities.due_reminders(store, moment),
            "votes_closed": await votes.close_due(store, moment),
        }
        if benefits is not None:
            done["benefit_reminders"] = await benefit_reminders.due(store, benefits, moment, tz)
        if digests is not None:
            # Alerts before digests; what an alert says is also in the person's next digest.
            done |= await digests_service.tick(store, digests, moment, tz)
    # Handled event ids past the platforms' retry windows and expired button keys, in
    # short batches of their own after the tick's transaction.
    done |= {f"forgot_{name}": count for name, count in (await events.forget_old(database)).items()}
    if any(done.values()):
        log.info("tick: %s", done)
    return done
