"""The yearly physical exam (一年一次免费体检): the schedule officers import, reminders 7 days
and 1 day before, moving to another batch with an officer's approval, and a missed exam
shown as missed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

from sqlalchemy import func, select

from storage import audit, outbox
from storage.clock import utcnow
from storage.errors import BenefitError
from storage.identity import StaffView, officers, staff_by_no
from storage.models import ExamAppointment, Staff
from storage.outbox import Button
from storage.store import Store
from storage.tables import RowProblem, day_of, read_table

COLUMNS = ("staff_no", "date", "place", "batch")
HEADERS = {"工号": "staff_no", "日期": "date", "体检日期": "date", "地点": "place", "批次": "batch"}
REMIND_DAYS = (7, 1)


def header(raw: str) -> str | None:
    key = raw.strip().lstrip("\ufeff").strip()
    return key.lower() if key.lower() in COLUMNS else HEADERS.get(key)


@dataclass
class ScheduleReport:
    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)


def read_schedule(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    return read_table(path, header, ("staff_no", "date", "place"))


async def import_schedule(store: Store, rows: list[tuple[int, dict[str, str]]]) -> ScheduleReport:
    """One appointment per person and year; a re-import updates it. Bad rows are reported
    with their line numbers and the good rows still go in."""
    report = ScheduleReport()
    ids = dict(
        (await store.session.execute(select(Staff.staff_no, Staff.id).where(Staff.active))).all()
    )
    now = utcnow()
    for line, values in rows:
        staff_no = values.get("staff_no", "").strip()
        if staff_no not in ids:
            report.problems.append(
                RowProblem(line, "benefits.exam.unknown", {"staff_no": staff_no})
            )
            continue
        try:
            day = day_of(values.get("date", ""))
        except ValueError:
            report.problems.append(
                RowProblem(line, "benefits.exam.bad_date", {"value": values.get("date", "")})
            )
            continue
        place = values.get("place", "").strip()
        if not place:
            report.problems.append(RowProblem(line, "benefits.exam.no_place", {}))
            continue
        found = await store.session.scalar(
            select(ExamAppointment).where(
                ExamAppointment.staff_id == ids[staff_no], ExamAppointment.year == day.year
            )
        )
        if found is None:
            found = ExamAppointment(
                staff_id=ids[staff_no], year=day.year, day=day, place=place, created_at=now
            )
            store.session.add(found)
            report.created += 1
        else:
            report.updated += 1
        found.day, found.place = day, place
        found.batch = values.get("batch", "").strip()
        found.updated_at = now
    await audit.record(
        store, "exam.import", "exam_schedule", "*", created=report.created, updated=report.updated
    )
    return report


async def mark_done(store: Store, staff_nos: list[str], year: int) -> int:
    """The completion list: these people had their exam."""
    rows = await store.session.scalars(
        select(ExamAppointment)
        .join(Staff, Staff.id == ExamAppointment.staff_id)
        .where(ExamAppointment.year == year, Staff.staff_no.in_(staff_nos))
    )
    done = 0
    for appointment in rows:
        appointment.status, appointment.updated_at = "done", utcnow()
        done += 1
    await audit.record(store, "exam.done", "exam_schedule", year, count=done)
    return done


def status_of(appointment: ExamAppointment, today: date) -> str:
    """scheduled, done, or missed: a day gone by without the exam forfeits it."""
    if appointment.status == "done":
        return "done"
    return "missed" if appointment.day < today else "scheduled"


async def mine(store: Store, staff_id: int, year: int) -> ExamAppointment | None:
    return await store.session.scalar(
        select(ExamAppointment).where(
            ExamAppointment.staff_id == staff_id, ExamAppointment.year == year
        )
    )


async def _batch(store: Store, year: int, batch: str) -> ExamAppointment | None:
    return await store.session.scalar(
        select(ExamAppointment)
        .where(ExamAppointment.year == year, ExamAppointment.batch == batch)
        .limit(1)
    )


async def _batches(store: Store, year: int, excluding: str) -> list[str]:
    """The year's other batches as a person can choose them: "B 2026-12-29 附属医院…"."""
    rows = await store.session.execute(
        select(
            ExamAppointment.batch, func.min(ExamAppointment.day), func.min(ExamAppointment.place)
        )
        .where(ExamAppointment.year == year, ExamAppointment.batch != excluding)
        .group_by(ExamAppointment.batch)
        .order_by(ExamAppointment.batch)
    )
    return [f"{batch} {day.isoformat()} {place}" for batch, day, place in rows]


async def request_change(
    store: Store, person: StaffView, year: int, batch: str, reason: str, today: date
) -> ExamAppointment:
    """Ask to move to another batch of this year's schedule; school officers decide. Refuses
    someone with no appointment, an exam already had or missed, and a batch that does not
    exist."""
    appointment = await mine(store, person.id, year)
    if appointment is None:
        raise BenefitError("benefits.exam.none", year=year)
    if status_of(appointment, today) != "scheduled":
        raise BenefitError("benefits.exam.too_late")
    target = await _batch(store, year, batch)
    if target is None or batch == appointment.batch:
        others = await _batches(store, year, excluding=appointment.batch)
        key = "benefits.exam.same_batch" if target is not None else "benefits.exam.no_batch"
        raise BenefitError(key, batch=batch, batches=others)
    appointment.change_batch, appointment.change_reason = batch, reason
    appointment.change_status, appointment.updated_at = "pending", utcnow()
    await audit.record(store, "exam.change_request", "exam", appointment.id, batch=batch)
    await outbox.tell_each(
        store,
        await officers(store, None),
        reason=f"exam:{appointment.id}:change:{batch}",
        message_key="benefits.notify.exam_change",
        why_key="benefits.why.officer",
        params=outbox.with_buttons(
            {"name": person.name, "batch": batch, "reason": reason},
            [Button("benefits.button.approve", f"/exam approve {person.staff_no}")],
        ),
    )
    return appointment


async def decide_change(
    store: Store, staff_no: str, year: int, approve: bool
) -> tuple[ExamAppointment, StaffView]:
    """Approve (the person moves to the batch's day and place) or decline a request.
    Refuses an unknown person and one with no pending request."""
    person = await staff_by_no(store, staff_no)
    appointment = await mine(store, person.id, year) if person else None
    if person is None or appointment is None or appointment.change_status != "pending":
        raise BenefitError("benefits.exam.no_request", staff_no=staff_no)
    if approve:
        target = await _batch(store, year, appointment.change_batch or "")
        if target is None:
            others = await _batches(store, year, excluding=appointment.batch)
            raise BenefitError(
                "benefits.exam.no_batch", batch=appointment.change_batch or "", batches=others
            )
        appointment.day, appointment.place = target.day, target.place
        appointment.batch = target.batch
    appointment.change_status = "approved" if approve else "declined"
    appointment.updated_at = utcnow()
    await audit.record(store, f"exam.change_{appointment.change_status}", "exam", appointment.id)
    await outbox.tell_each(
        store,
        [person.id],
        reason=f"exam:{appointment.id}:{appointment.change_status}:{appointment.change_batch}",
        message_key=f"benefits.notify.exam_{appointment.change_status}",
        why_key="benefits.why.exam",
        params={"day": appointment.day.isoformat(), "place": appointment.place},
        urgent=True,
    )
    return appointment, person


async def due_reminders(store: Store, now: datetime, tz: tzinfo) -> int:
    """Remind each person 7 days and 1 day before their exam (once each)."""
    today = now.astimezone(tz).date()
    rows = await store.session.scalars(
        select(ExamAppointment).where(
            ExamAppointment.status == "scheduled",
            ExamAppointment.day > today,
            ExamAppointment.day <= today + timedelta(days=max(REMIND_DAYS)),
        )
    )
    told = 0
    for appointment in rows:
        left = (appointment.day - today).days
        days = min(d for d in REMIND_DAYS if d >= left)
        await outbox.enqueue(
            store,
            reason=f"exam:{appointment.id}:remind:{days}:{appointment.day.isoformat()}",
            recipient_id=appointment.staff_id,
            message_key="benefits.notify.exam_reminder",
            why_key="benefits.why.exam",
            params={"day": appointment.day.isoformat(), "place": appointment.place, "days": left},
        )
        told += 1
    return told
