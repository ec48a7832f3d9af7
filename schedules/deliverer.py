"""The deliverer: claims due deliveries, sends them through adapters, records outcomes.

Sending happens outside any database transaction: the claim is committed first
(with a lease), the outcome in a second transaction. A crash in between leaves the
lease to expire and the delivery is sent again: at-least-once, so at most the few
messages in flight at a crash may arrive twice (neither Slack nor Telegram has an
idempotency key). Before sending, the misfire policy (a message past its grace is
recorded as missed, never sent days late) and quiet hours (non-urgent messages wait
for the recipient's morning) apply, and the rate limiter keeps each platform within
its published limits.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta, tzinfo

from bot.delivery import Recipient, SendResult, SendStatus
from bot.i18n import Catalog
from bot.replies import Attachment, Reply
from bot.timefmt import zone
from schedules.notifications import render_notification
from schedules.quiet import parse_window, quiet_until
from schedules.ratelimit import RateLimiter
from storage import outbox
from storage.clock import utcnow
from storage.db import Database
from storage.store import SYSTEM, Store

log = logging.getLogger(__name__)

Send = Callable[[Recipient, Reply], Awaitable[SendResult]]
# Makes a file a message carries when it is sent (a weekly digest's chart), for a
# reader's language and zone; None when there is nothing to draw.
MakeAttachment = Callable[[str, tzinfo], Awaitable[Attachment | None]]
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
LATE_AFTER = timedelta(minutes=1)  # sent later than this after its time: marked late


def backoff(attempt: int) -> timedelta:
    """Exponential backoff with full jitter, capped at 30 minutes."""
    ceiling = min(30 * 60, 5 * 2 ** max(0, attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class Deliverer:
    def __init__(
        self,
        database: Database,
        catalog: Catalog,
        senders: Mapping[str, Send],
        default_language: str,
        *,
        default_timezone: tzinfo | None = None,
        quiet_hours: str = "22:00-07:30",
        limiter: RateLimiter | None = None,
        lease: timedelta = LEASE,
        attachments: Mapping[str, MakeAttachment] | None = None,
    ) -> None:
        self.database = database
        self.catalog = catalog
        self.senders = dict(senders)
        self.default_language = default_language
        self.default_timezone = default_timezone or zone("Asia/Shanghai")
        self.quiet = parse_window(quiet_hours)
        self.limiter = limiter or RateLimiter()
        self.lease = lease
        self.attachments = dict(attachments or {})

    def _zone(self, name: str | None) -> tzinfo:
        if name:
            try:
                return zone(name)
            except ValueError:
                pass
        return self.default_timezone

    async def run_once(
        self,
        *,
        platform_user_id: str | None = None,
        platforms: list[str] | None = None,
        limit: int = 100,
    ) -> int:
        """Send one claimed batch of what is due now; returns how many were sent."""
        _claimed, sent = await self._batch(platform_user_id, platforms, limit)
        return sent

    async def _batch(
        self, platform_user_id: str | None, platforms: list[str] | None, limit: int
    ) -> tuple[int, int]:
        """One batch: how many were claimed, and how many of them were sent."""
        wanted = platforms or list(self.senders)
        if not wanted:
            return 0, 0
        async with self.database.session() as session:
            jobs = await outbox.claim_due(
                Store(session, SYSTEM),
                platforms=wanted,
                lease=self.lease,
                limit=limit,
                platform_user_id=platform_user_id,
            )
        sendable: list[outbox.DeliveryJob] = []
        async with self.database.session() as session:
            store = Store(session, SYSTEM)
            now = utcnow()
            for job in jobs:
                if job.not_before is not None and job.grace_seconds is not None:
                    overdue = now - job.not_before
                    if overdue > timedelta(seconds=job.grace_seconds):
                        await outbox.mark_missed(
                            store,
                            job.delivery_id,
                            f"misfire: {int(overdue.total_seconds())} s late",
                        )
                        continue
                if not job.urgent:
                    until = quiet_until(now, self._zone(job.timezone), self.quiet)
                    if until is not None:
                        await outbox.defer(store, job.delivery_id, until, "quiet hours")
                        continue
                sendable.append(job)
        # Sent side by side: the rate limiter, not the round trips, sets the pace.
        results = await asyncio.gather(*(self._send(job) for job in sendable))
        sent = 0
        async with self.database.session() as session:
            store = Store(session, SYSTEM)
            for job, result in zip(sendable, results, strict=True):
                late = job.not_before is not None and utcnow() - job.not_before > LATE_AFTER
                if result.status is SendStatus.SENT:
                    await outbox.mark_sent(store, job.delivery_id, result.message_id, late=late)
                    sent += 1
                elif result.status is SendStatus.FAILED or job.attempts >= MAX_ATTEMPTS:
                    await outbox.mark_failed(store, job.delivery_id, result.reason or "gave up")
                else:
                    after = (
                        timedelta(seconds=result.retry_after)
                        if result.retry_after
                        else backoff(job.attempts)
                    )
                    await outbox.mark_retry(store, job.delivery_id, after, result.reason or "retry")
        return len(jobs), sent

    async def drain(self, *, workers: int = 2, limit: int = 100) -> int:
        """Send everything due, with batches overlapping: while one worker records a batch's
        outcomes and claims the next, another is sending. Returns how many were sent."""

        async def worker() -> int:
            total = 0
            while True:
                claimed, sent = await self._batch(None, None, limit)
                total += sent
                if claimed == 0:
                    return total

        return sum(await asyncio.gather(*(worker() for _ in range(workers))))

    async def _send(self, job: outbox.DeliveryJob) -> SendResult:
        lang = job.language or self.default_language
        tz = self._zone(job.timezone)
        reply = render_notification(
            self.catalog, lang, job.message_key, job.why_key, job.params, tz
        )
        make = self.attachments.get(str(job.params.get(outbox.ATTACHMENT_PARAM) or ""))
        if make is not None:
            try:
                reply.attachment = await make(lang, tz)
            except Exception:  # the message still goes, without its picture
                log.exception("delivery %s: its attachment could not be made", job.delivery_id)
        recipient = Recipient(job.platform, job.platform_user_id, job.address)
        await self.limiter.wait(job.platform, job.address or job.platform_user_id)
        try:
            return await self.senders[job.platform](recipient, reply)
        except Exception as exc:  # an adapter bug must not stop the others' deliveries
            log.exception("delivery %s through %s raised", job.delivery_id, job.platform)
            return SendResult.retry(backoff(job.attempts).total_seconds(), repr(exc)[:500])
