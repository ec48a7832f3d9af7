"""The deliverer: claims due deliveries, sends them through adapters, records outcomes.

Sending happens outside any database transaction: the claim is committed first (with
a lease, renewed while the batch is worked on), and each outcome is recorded in its own
short transaction as soon as the platform answers. A crash therefore repeats only the
messages actually in flight (at most `concurrency` at once; neither Slack nor Telegram has
an idempotency key), and the rest of the batch is taken over when its lease runs out.
A database that goes away while outcomes are recorded loses none of them: they are kept
and written when it is back (one warning when it goes, one line when it returns), and
what was sent is not sent again. Before sending, the misfire policy (a message past its
grace is recorded as missed, never sent days late) and quiet hours (non-urgent messages
wait for the recipient's morning) apply, and the rate limiter keeps each platform within
its published limits.

A platform that can send one message to many people in one call (WeCom's `touser` of up
to 1,000 ids) gets, in each claimed batch, the deliveries whose rendered message is the
same (a congress-wide notice, in one language and zone) as one call; each recipient's
outcome is its own, from what the platform says of each id. Such a call is one send in
flight that may be repeated whole by a crash, which is why such platforms are asked to
suppress duplicates (WeCom's duplicate check).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from sqlalchemy.exc import DBAPIError

from bot.delivery import Recipient, SendResult, SendStatus
from bot.i18n import Catalog
from bot.replies import Attachment, Reply
from bot.timefmt import zone
from schedules.notifications import render_notification
from schedules.quiet import parse_window, quiet_until
from schedules.ratelimit import RateLimiter
from storage import identity, outbox, senders
from storage.clock import utcnow
from storage.db import Database
from storage.store import SYSTEM, Store

log = logging.getLogger(__name__)

Send = Callable[[Recipient, Reply], Awaitable[SendResult]]
# One message to many recipients in one call: one result per recipient, in their order.
SendMany = Callable[[list[Recipient], Reply], Awaitable[list[SendResult]]]
# Makes a file a message carries when it is sent (a weekly digest's chart), for a
# reader's language and zone; None when there is nothing to draw.
MakeAttachment = Callable[[str, tzinfo], Awaitable[Attachment | None]]
# Writes what a platform needs before a reply is sent (an adapter's `prepare`).
Prepare = Callable[[Reply], Awaitable[None]]
MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=30)
LATE_AFTER = timedelta(minutes=1)  # sent later than this after its time: marked late
SENDERS = 8  # sends in flight at once: also the most a crash can repeat
UNSERVED_AFTER = timedelta(minutes=60)  # then a delivery no instance can send goes elsewhere
ALIVE = timedelta(seconds=60)  # an instance not heard of for this long is gone
RECORD_PATIENCE = 30.0  # seconds an outcome is retried at once before it waits for the next batch
# What a database that went away raises (a dropped connection, a restart, a failover).
DATABASE_GONE: tuple[type[BaseException], ...] = (DBAPIError, OSError, ConnectionError)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one send, waiting to be written."""

    job: outbox.DeliveryJob
    result: SendResult
    late: bool


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
        concurrency: int = SENDERS,
        holder: str | None = None,
        unserved_after: timedelta = UNSERVED_AFTER,
        preparers: Mapping[str, Prepare] | None = None,
        batchers: Mapping[str, tuple[SendMany, int]] | None = None,
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
        self._slots = asyncio.Semaphore(concurrency)
        self._unrecorded: list[Outcome] = []  # sent, but the database was away
        self._database_away = False
        # Known to the other instances under this name (None: a console's own deliverer,
        # which shares nothing and reroutes nothing).
        self.holder = holder
        self.preparers = dict(preparers or {})
        self.unserved_after = unserved_after
        # platform -> (its many-recipient send, the most recipients one call takes)
        self.batchers = {name: pair for name, pair in (batchers or {}).items() if pair[1] > 1}

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
        await self._flush_unrecorded()
        if self._unrecorded:
            return 0, 0  # the database is still away: nothing new until what was sent is known
        try:
            jobs, sendable = await self._claim(wanted, platform_user_id, limit)
        except DATABASE_GONE as exc:  # nothing claimed, nothing lost: the next round tries
            self._away(exc)
            return 0, 0
        self._back()
        # Sent side by side (at most `concurrency` at once): the rate limiter, not the round
        # trips, sets the pace; each outcome is written as soon as it is known.
        heartbeat = asyncio.create_task(self._renew([job.delivery_id for job in sendable]))
        try:
            singles, together = self._group(sendable)
            sends: list[Awaitable[int]] = [self._deliver(job) for job in singles]
            sends += [self._deliver_together(jobs, reply) for jobs, reply in together]
            sent = sum(await asyncio.gather(*sends))
        finally:
            heartbeat.cancel()
        return len(jobs), sent

    async def _claim(
        self, wanted: list[str], platform_user_id: str | None, limit: int
    ) -> tuple[list[outbox.DeliveryJob], list[outbox.DeliveryJob]]:
        """Claim what is due; of it, what may be sent now (the rest is missed or waits)."""
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
        return jobs, sendable

    async def _deliver(self, job: outbox.DeliveryJob) -> bool:
        # The slot is held until the outcome is written: at any moment at most
        # `concurrency` messages are sent and not yet recorded, which bounds what a crash
        # can repeat.
        async with self._slots:
            result = await self._send(job)
            late = job.not_before is not None and utcnow() - job.not_before > LATE_AFTER
            await self._record(Outcome(job, result, late))
        return result.status is SendStatus.SENT

    def _group(
        self, jobs: list[outbox.DeliveryJob]
    ) -> tuple[list[outbox.DeliveryJob], list[tuple[list[outbox.DeliveryJob], Reply]]]:
        """Jobs sent one by one, and groups of jobs with the same message for one call each
        (only on platforms that take many recipients, never for a chat or a message whose
        file is made when it is sent)."""
        singles: list[outbox.DeliveryJob] = []
        same: dict[tuple[str, str], tuple[list[outbox.DeliveryJob], Reply]] = {}
        for job in jobs:
            if (
                job.platform not in self.batchers
                or job.address
                or job.params.get(outbox.ATTACHMENT_PARAM)
            ):
                singles.append(job)
                continue
            reply = self._render(job)
            jobs_of, _ = same.setdefault((job.platform, repr(reply)), ([], reply))
            jobs_of.append(job)
        together: list[tuple[list[outbox.DeliveryJob], Reply]] = []
        for (platform, _key), (grouped, reply) in same.items():
            size = self.batchers[platform][1]
            if len(grouped) == 1:
                singles.extend(grouped)
                continue
            together += [(grouped[i : i + size], reply) for i in range(0, len(grouped), size)]
        return singles, together

    async def _deliver_together(self, jobs: list[outbox.DeliveryJob], reply: Reply) -> int:
        """One call for many recipients of one message; each outcome recorded as its own."""
        async with self._slots:
            platform = jobs[0].platform
            results = await self._send_together(platform, jobs, reply)
            now = utcnow()
            outcomes = [
                Outcome(
                    job,
                    result,
                    job.not_before is not None and now - job.not_before > LATE_AFTER,
                )
                for job, result in zip(jobs, results, strict=True)
            ]
            await self._record(*outcomes)
        return sum(result.status is SendStatus.SENT for result in results)

    async def _send_together(
        self, platform: str, jobs: list[outbox.DeliveryJob], reply: Reply
    ) -> list[SendResult]:
        prepared = await self._prepare(platform, reply, max(job.attempts for job in jobs))
        if prepared is not None:
            return [prepared] * len(jobs)
        recipients = [Recipient(platform, job.platform_user_id) for job in jobs]
        await self.limiter.wait_many(platform, [job.platform_user_id for job in jobs])
        send_many, _size = self.batchers[platform]
        try:
            results = await send_many(recipients, reply)
        except Exception as exc:  # an adapter bug must not stop the others' deliveries
            log.exception("%s deliveries through %s raised", len(jobs), platform)
            after = backoff(max(job.attempts for job in jobs)).total_seconds()
            return [SendResult.retry(after, repr(exc)[:500])] * len(jobs)
        if len(results) != len(jobs):
            log.error("%s answered %s results for %s recipients", platform, len(results), len(jobs))
            return [SendResult.retry(60, "the adapter lost count of its recipients")] * len(jobs)
        return results

    async def _renew(self, delivery_ids: list[int]) -> None:
        """While a batch is worked on, its claim is renewed, so it is never taken over
        from a sender that is alive; a dead one's lapses within one lease."""
        pause = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(pause)
            try:
                async with self.database.session() as session:
                    await outbox.renew(Store(session, SYSTEM), delivery_ids, self.lease)
            except DATABASE_GONE:
                continue  # the outcomes' own retries say so; the claim may lapse meanwhile

    async def _record(self, *outcomes: Outcome) -> None:
        """Write the outcomes of one send in their own transaction; while the database is
        away, keep them and try again (with backoff, then at the next batch)."""
        deadline = time.monotonic() + RECORD_PATIENCE
        pause = 0.2
        while True:
            try:
                async with self.database.session() as session:
                    store = Store(session, SYSTEM)
                    for outcome in outcomes:
                        await self._write(store, outcome)
            except DATABASE_GONE as exc:
                self._away(exc)
                if time.monotonic() > deadline:
                    self._unrecorded.extend(outcomes)
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                continue
            self._back()
            return

    def _away(self, exc: BaseException) -> None:
        if not self._database_away:
            self._database_away = True
            log.warning(
                "database unavailable while recording deliveries (%s); outcomes are kept "
                "and written when it is back",
                type(exc).__name__,
            )

    def _back(self) -> None:
        if self._database_away:
            self._database_away = False
            log.warning("database back: kept delivery outcomes are being written")

    async def _flush_unrecorded(self) -> None:
        """Outcomes kept while the database was away, written before anything new is sent."""
        waiting, self._unrecorded = self._unrecorded, []
        for outcome in waiting:
            await self._record(outcome)

    async def _write(self, store: Store, outcome: Outcome) -> None:
        job, result = outcome.job, outcome.result
        if result.status is SendStatus.SENT:
            await outbox.mark_sent(store, job.delivery_id, result.message_id, late=outcome.late)
        elif result.gone:
            await identity.end_link(
                store,
                job.platform,
                job.platform_user_id,
                result.reason or "the platform no longer knows this account",
                also=[job.delivery_id],
            )
        elif result.status is SendStatus.FAILED or job.attempts >= MAX_ATTEMPTS:
            await outbox.mark_failed(store, job.delivery_id, result.reason or "gave up")
        else:
            after = (
                timedelta(seconds=result.retry_after)
                if result.retry_after
                else backoff(job.attempts)
            )
            await outbox.mark_retry(store, job.delivery_id, after, result.reason or "retry")

    async def coordinate(self) -> None:
        """Say this instance is alive and what it sends on; take its share of each
        platform's rate budget; send elsewhere what no instance can send."""
        if self.holder is None:
            return
        try:
            async with self.database.session() as session:
                store = Store(session, SYSTEM)
                await senders.heartbeat(store, self.holder, list(self.senders))
                counts = await senders.live(store, ALIVE)
                await outbox.reroute_unserved(store, set(counts), self.unserved_after)
        except DATABASE_GONE as exc:
            self._away(exc)
            return
        self.limiter.share(counts)

    async def stop(self) -> None:
        """Leaving cleanly: the others take this instance's share at once."""
        if self.holder is None:
            return
        try:
            async with self.database.session() as session:
                await senders.forget(Store(session, SYSTEM), self.holder)
        except DATABASE_GONE as exc:
            self._away(exc)

    async def keep_sending(self, interval: float, stopping: asyncio.Event) -> None:
        """Drain, rest `interval` seconds, drain again, until `stopping` is set: a task of
        its own rather than a scheduler job, because a job that starts late (the loop busy
        with a burst of button presses) is counted as missed and skipped; a round here may
        start late but is never skipped, and the round in progress finishes on shutdown."""
        while not stopping.is_set():
            try:
                await self.drain()
            except Exception:
                log.exception("a delivery round failed; the next one starts in %s s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)

    async def drain(self, *, workers: int = 2, limit: int | None = None) -> int:
        """Send everything due, with batches overlapping: while one worker records a batch's
        outcomes and claims the next, another is sending. Returns how many were sent. A
        claim takes 100 deliveries, or as many as one call of a platform takes."""
        await self.coordinate()
        claim = limit or max([100, *(size for _send, size in self.batchers.values())])

        async def worker() -> int:
            total = 0
            while True:
                claimed, sent = await self._batch(None, None, claim)
                total += sent
                if claimed == 0:
                    return total

        return sum(await asyncio.gather(*(worker() for _ in range(workers))))

    def _render(self, job: outbox.DeliveryJob) -> Reply:
        lang = job.language or self.default_language
        return render_notification(
            self.catalog, lang, job.message_key, job.why_key, job.params, self._zone(job.timezone)
        )

    async def _prepare(self, platform: str, reply: Reply, attempts: int) -> SendResult | None:
        """What the platform needs written before sending; a result if it could not be."""
        prepare = self.preparers.get(platform)
        if prepare is not None:
            try:
                await prepare(reply)
            except DATABASE_GONE as exc:  # nothing was sent: it is tried again later
                self._away(exc)
                return SendResult.retry(backoff(attempts).total_seconds(), "database away")
        return None

    async def _send(self, job: outbox.DeliveryJob) -> SendResult:
        reply = self._render(job)
        make = self.attachments.get(str(job.params.get(outbox.ATTACHMENT_PARAM) or ""))
        if make is not None:
            lang = job.language or self.default_language
            try:
                reply.attachment = await make(lang, self._zone(job.timezone))
            except Exception:  # the message still goes, without its picture
                log.exception("delivery %s: its attachment could not be made", job.delivery_id)
        prepared = await self._prepare(job.platform, reply, job.attempts)
        if prepared is not None:
            return prepared
        recipient = Recipient(job.platform, job.platform_user_id, job.address)
        await self.limiter.wait(job.platform, job.address or job.platform_user_id)
        try:
            return await self.senders[job.platform](recipient, reply)
        except Exception as exc:  # an adapter bug must not stop the others' deliveries
            log.exception("delivery %s through %s raised", job.delivery_id, job.platform)
            return SendResult.retry(backoff(job.attempts).total_seconds(), repr(exc)[:500])
