"""Surveys: drafting, opening, answering, closing, reminding.

A response is found by its key, a random string the respondent's buttons carry. For a
named survey the response also names the person, so they can come back to it from
anywhere; for an anonymous one nothing in the database does: the person's own chat
holds the key (the bot repeats it when they submit), and `SurveyInvitation.answered` says
only that they have answered, so nobody answers twice and reminders skip them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update

from storage import anonymity, audiences, audit, outbox
from storage.clock import utcnow
from storage.errors import SurveyError
from storage.models import (
    Staff,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from storage.store import Store
from storage.surveys.definition import SCALE, Definition

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read back from a screen
KEY_LENGTH = 16  # 80 bits: a response cannot be guessed
REMINDER_GRACE = timedelta(hours=1)


def new_key() -> str:
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


async def get(store: Store, survey_id: int) -> Survey:
    survey = await store.session.get(Survey, survey_id)
    if survey is None:
        raise SurveyError("surveys.error.not_found", id=survey_id)
    return survey


async def questions(store: Store, survey_id: int) -> list[SurveyQuestion]:
    return list(
        await store.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey_id)
            .order_by(SurveyQuestion.position)
        )
    )


async def create(
    store: Store, definition: Definition, *, owner_scope: str, created_by: int | None
) -> Survey:
    """A draft survey from a checked definition. A sub-union's officer (`owner_scope`) may
    only ask their own sub-union."""
    if owner_scope and (
        definition.audience != "sub_union" or definition.audience_scope != owner_scope
    ):
        raise SurveyError("surveys.error.own_sub_union_only", mine=owner_scope)
    if definition.closes_at <= utcnow():
        raise SurveyError("surveys.error.closes_in_past")
    survey = Survey(
        title=definition.title,
        intro=definition.intro,
        audience=definition.audience,
        audience_scope=definition.audience_scope,
        anonymous=definition.anonymous,
        owner_scope=owner_scope,
        status="draft",
        opens_at=definition.opens_at,
        closes_at=definition.closes_at,
        min_group=definition.min_group,
        reminder_minutes=list(definition.reminder_minutes),
        created_by=created_by,
        created_at=utcnow(),
    )
    store.session.add(survey)
    await store.session.flush()
    for position, question in enumerate(definition.questions, start=1):
        store.session.add(
            SurveyQuestion(
                survey_id=survey.id,
                position=position,
                kind=question.kind,
                prompt=question.prompt,
                options=list(question.options),
                max_choices=question.max_choices,
                max_length=question.max_length,
                required=question.required,
            )
        )
    await audit.record(store, "survey.create", "survey", survey.id, title=survey.title)
    return survey


def _audience(survey: Survey) -> ColumnElement[bool]:
    return audiences.condition(survey.audience, survey.audience_scope)


async def publish(store: Store, survey: Survey, now: datetime | None = None) -> int:
    """Publish a draft: it opens now, or at its opening time (the clock opens it then).
    Returns how many were asked (0 while it waits for its time)."""
    now = now or utcnow()
    if survey.status != "draft":
        raise SurveyError("surveys.error.not_draft", id=survey.id, status=survey.status)
    if survey.closes_at <= now:
        raise SurveyError("surveys.error.closes_in_past")
    count = await store.session.scalar(select(func.count()).where(_audience(survey)))
    if not count:
        raise SurveyError("surveys.error.nobody_asked")
    survey.status = "scheduled"
    survey.published_at = now
    await audit.record(store, "survey.publish", "survey", survey.id)
    if survey.opens_at <= now:
        return await _open(store, survey)
    return 0


async def _open(store: Store, survey: Survey) -> int:
    """Ask everyone in the audience, as the roster has them now."""
    survey.status = "open"
    people = list(
        await store.session.scalars(select(Staff.id).where(_audience(survey)).order_by(Staff.id))
    )
    store.session.add_all(SurveyInvitation(survey_id=survey.id, staff_id=p) for p in people)
    await store.session.flush()
    asked = select(SurveyInvitation.staff_id).where(SurveyInvitation.survey_id == survey.id)
    return await outbox.enqueue_select(
        store,
        asked,
        reason=f"survey:{survey.id}:open",
        message_key="surveys.notify.opened",
        why_key="surveys.why.asked",
        params=outbox.with_buttons(params(survey), fill_buttons(survey)),
    )


def params(survey: Survey) -> dict[str, object]:
    """What every notice about a survey can say."""
    return {
        "id": survey.id,
        "title": survey.title,
        "anonymous": "yes" if survey.anonymous else "no",
        "_at": survey.closes_at.isoformat(),  # shown as {when}, in the reader's zone
    }


def fill_buttons(survey: Survey) -> list[outbox.Button]:
    return [outbox.Button("surveys.button.fill", f"/survey fill {survey.id}")]


# ---------------------------------------------------------------- answering


async def invitation(store: Store, survey: Survey, staff_id: int) -> SurveyInvitation:
    found = await store.session.scalar(
        select(SurveyInvitation).where(
            SurveyInvitation.survey_id == survey.id, SurveyInvitation.staff_id == staff_id
        )
    )
    if found is None:
        raise SurveyError("surveys.error.not_asked", id=survey.id)
    return found


async def is_asked(store: Store, survey: Survey, staff_id: int) -> bool:
    found = await store.session.scalar(
        select(SurveyInvitation.id).where(
            SurveyInvitation.survey_id == survey.id, SurveyInvitation.staff_id == staff_id
        )
    )
    return found is not None


def _must_be_open(survey: Survey) -> None:
    if survey.status == "closed" or survey.closes_at <= utcnow():
        raise SurveyError("surveys.error.closed", id=survey.id)
    if survey.status != "open":
        raise SurveyError("surveys.error.not_open", id=survey.id)


async def start(store: Store, survey: Survey, staff_id: int, key: str | None) -> SurveyResponse:
    """The response this person fills in: their own (named), the one whose key they give
    (anonymous, to change it), or a new one. Refuses an anonymous second response."""
    _must_be_open(survey)
    asked = await invitation(store, survey, staff_id)
    if key is not None:
        return await response(store, survey, staff_id, key)
    if not survey.anonymous:
        found = await store.session.scalar(
            select(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id, SurveyResponse.staff_id == staff_id
            )
        )
        if found is not None:
            return found
    elif asked.answered:
        raise SurveyError("surveys.error.answered_anonymous", id=survey.id)
    made = SurveyResponse(
        key=new_key(),
        survey_id=survey.id,
        staff_id=None if survey.anonymous else staff_id,
        grp="",
        submitted=False,
    )
    store.session.add(made)
    await store.session.flush()
    return made


async def response(store: Store, survey: Survey, staff_id: int, key: str) -> SurveyResponse:
    """The response with this key, for someone asked; a named one only for its person."""
    _must_be_open(survey)
    await invitation(store, survey, staff_id)
    found = await store.session.get(SurveyResponse, key.upper())
    if found is None or found.survey_id != survey.id:
        raise SurveyError("surveys.error.no_such_response", id=survey.id)
    if found.staff_id is not None and found.staff_id != staff_id:
        raise SurveyError("surveys.error.no_such_response", id=survey.id)
    return found


async def answers(store: Store, key: str) -> dict[int, list[SurveyAnswer]]:
    """A response's answers by question id."""
    rows = await store.session.scalars(
        select(SurveyAnswer)
        .where(SurveyAnswer.response_key == key)
        .order_by(SurveyAnswer.question_id, SurveyAnswer.choice)
    )
    found: dict[int, list[SurveyAnswer]] = {}
    for row in rows:
        found.setdefault(row.question_id, []).append(row)
    return found


async def answer(
    store: Store,
    survey: Survey,
    reply: SurveyResponse,
    question: SurveyQuestion,
    value: str,
) -> None:
    """Record one answer: a choice replaces the last (a multiple choice toggles, up to its
    maximum), a number on the scale, a text within its length. Refuses what the
    question cannot take."""
    _must_be_open(survey)
    where = (SurveyAnswer.response_key == reply.key) & (SurveyAnswer.question_id == question.id)
    value = value.strip()
    if question.kind == "text":
        limit = question.max_length or 2000
        if not value:
            raise SurveyError("surveys.error.empty_text")
        if len(value) > limit:
            raise SurveyError("surveys.error.text_too_long", most=limit, length=len(value))
        await store.session.execute(delete(SurveyAnswer).where(where))
        store.session.add(
            SurveyAnswer(response_key=reply.key, question_id=question.id, choice=0, text=value)
        )
    else:
        most = SCALE if question.kind == "scale" else len(question.options)
        if not value.isdigit() or not 1 <= int(value) <= most:
            raise SurveyError("surveys.error.choice", most=most, value=value[:20])
        choice = int(value)
        if question.kind == "multiple":
            chosen = set(await store.session.scalars(select(SurveyAnswer.choice).where(where)))
            if choice in chosen:
                await store.session.execute(
                    delete(SurveyAnswer).where(where & (SurveyAnswer.choice == choice))
                )
            else:
                if len(chosen) >= (question.max_choices or most):
                    raise SurveyError("surveys.error.too_many", most=question.max_choices or most)
                store.session.add(
                    SurveyAnswer(response_key=reply.key, question_id=question.id, choice=choice)
                )
        else:
            await store.session.execute(delete(SurveyAnswer).where(where))
            store.session.add(
                SurveyAnswer(response_key=reply.key, question_id=question.id, choice=choice)
            )
    if not survey.anonymous:  # an anonymous answer in the audit log would name its person
        await audit.record(store, "survey.answer", "survey", survey.id, question=question.position)
    await store.session.flush()


async def clear(
    store: Store, survey: Survey, reply: SurveyResponse, question: SurveyQuestion
) -> None:
    """Take back an answer to an optional question."""
    _must_be_open(survey)
    await store.session.execute(
        delete(SurveyAnswer).where(
            SurveyAnswer.response_key == reply.key, SurveyAnswer.question_id == question.id
        )
    )


async def submit(store: Store, survey: Survey, reply: SurveyResponse, staff_id: int) -> bool:
    """Hand the response in (True the first time). Refuses one with a required question
    unanswered, and a second anonymous response from someone who answered already."""
    _must_be_open(survey)
    asked = await invitation(store, survey, staff_id)
    given = await answers(store, reply.key)
    missing = [
        q.position for q in await questions(store, survey.id) if q.required and q.id not in given
    ]
    if missing:
        raise SurveyError("surveys.error.unanswered", questions=", ".join(str(n) for n in missing))
    if reply.submitted:
        return False
    if asked.answered:  # a second anonymous response: the first one stands
        raise SurveyError("surveys.error.answered_anonymous", id=survey.id)
    group = await store.session.scalar(select(Staff.sub_union).where(Staff.id == staff_id))
    reply.submitted = True
    reply.grp = group or ""
    asked.answered = True
    await audit.record(store, "survey.submit", "survey", survey.id)
    await store.session.flush()
    return True


# ---------------------------------------------------------------- closing


async def close(store: Store, survey: Survey, now: datetime | None = None) -> None:
    """Close it: unsubmitted drafts are dropped; for an anonymous survey, a group smaller
    than `min_group` loses its name, and responses and invitations are rewritten in an
    order unrelated to when people answered (`storage.anonymity`)."""
    if survey.status == "closed":
        raise SurveyError("surveys.error.closed", id=survey.id)
    survey.status = "closed"
    survey.closed_at = now or utcnow()
    # An invitation or reminder not yet sent would ask for answers that are no longer taken.
    await outbox.cancel_pending(store, f"survey:{survey.id}:open")
    await outbox.cancel_pending(store, f"survey:{survey.id}:remind:")
    await store.session.execute(
        delete(SurveyResponse).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.submitted.is_(False)
        )
    )
    if survey.anonymous:
        small = (
            select(SurveyResponse.grp)
            .where(SurveyResponse.survey_id == survey.id)
            .group_by(SurveyResponse.grp)
            .having(func.count() < survey.min_group)
        )
        await store.session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.survey_id == survey.id, SurveyResponse.grp.in_(small))
            .values(grp="")
        )
        await anonymity.reshuffle_survey(store, survey.id)
    await audit.record(store, "survey.close", "survey", survey.id)
    await store.session.flush()


async def close_due(store: Store, now: datetime) -> int:
    """Open what is due to open and close what is due to close; returns how many changed."""
    changed = 0
    due = await store.session.scalars(
        select(Survey).where(Survey.status == "scheduled", Survey.opens_at <= now)
    )
    for survey in list(due):
        await _open(store, survey)
        changed += 1
    ended = await store.session.scalars(
        select(Survey).where(Survey.status == "open", Survey.closes_at <= now)
    )
    for survey in list(ended):
        await close(store, survey, now)
        await _tell_closed(store, survey)
        changed += 1
    return changed


async def _tell_closed(store: Store, survey: Survey) -> None:
    """The person who made it hears that the results are ready."""
    if survey.created_by is not None:
        await outbox.enqueue(
            store,
            reason=f"survey:{survey.id}:closed",
            recipient_id=survey.created_by,
            message_key="surveys.notify.closed",
            why_key="surveys.why.owner",
            params=outbox.with_buttons(
                params(survey),
                [outbox.Button("surveys.button.results", f"/survey results {survey.id}")],
            ),
        )


async def due_reminders(store: Store, now: datetime) -> int:
    """Remind those who have not answered, at each offset before closing, once."""
    queued = 0
    surveys = await store.session.scalars(
        select(Survey).where(Survey.status == "open", Survey.closes_at > now)
    )
    for survey in list(surveys):
        for minutes in survey.reminder_minutes:
            fire_at = survey.closes_at - timedelta(minutes=int(minutes))
            if fire_at > now or (survey.published_at and fire_at < survey.published_at):
                continue
            waiting = select(SurveyInvitation.staff_id).where(
                SurveyInvitation.survey_id == survey.id, SurveyInvitation.answered.is_(False)
            )
            queued += await outbox.enqueue_select(
                store,
                waiting,
                reason=f"survey:{survey.id}:remind:{minutes}",
                message_key="surveys.notify.remind",
                why_key="surveys.why.not_answered",
                params=outbox.with_buttons(params(survey), fill_buttons(survey)),
                not_before=fire_at,
                grace=REMINDER_GRACE,
            )
    return queued


# ---------------------------------------------------------------- lists and results


@dataclass(frozen=True, slots=True)
class Listed:
    survey: Survey
    answered: bool


async def open_for(store: Store, staff_id: int) -> list[Listed]:
    """The open surveys this person was asked, closing soonest first."""
    rows = await store.session.execute(
        select(Survey, SurveyInvitation.answered)
        .join(SurveyInvitation, SurveyInvitation.survey_id == Survey.id)
        .where(SurveyInvitation.staff_id == staff_id, Survey.status == "open")
        .order_by(Survey.closes_at, Survey.id)
    )
    return [Listed(survey, answered) for survey, answered in rows]


async def managed_by(store: Store, scopes: set[str | None]) -> list[Survey]:
    """The surveys an officer runs: everything for the school's, their own for a sub-union's."""
    query = select(Survey).order_by(Survey.id.desc()).limit(50)
    if None not in scopes:
        query = query.where(Survey.owner_scope.in_(sorted(s for s in scopes if s)))
    return list(await store.session.scalars(query))


@dataclass(kw_only=True)
class QuestionResult:
    question: SurveyQuestion
    answered: int  # respondents who answered it
    counts: list[int]  # per option (or per point of the scale)
    texts: list[str]
    by_group: dict[str, list[int]]  # only groups of at least min_group respondents

    @property
    def mean(self) -> float | None:
        if self.question.kind != "scale" or not self.answered:
            return None
        return sum((n + 1) * c for n, c in enumerate(self.counts)) / self.answered


@dataclass(kw_only=True)
class Results:
    survey: Survey
    asked: int
    responded: int
    questions: list[QuestionResult]
    groups: dict[str, int]  # respondents per shown group
    hidden_groups: int  # groups too small to show

    @property
    def rate(self) -> float | None:
        return self.responded / self.asked if self.asked else None


async def results(store: Store, survey: Survey) -> Results:
    """Counts per choice, by sub-union where a group has at least `min_group` respondents;
    counted in the database, not answer by answer."""
    asked = int(
        await store.session.scalar(
            select(func.count()).where(SurveyInvitation.survey_id == survey.id)
        )
        or 0
    )
    submitted = (SurveyResponse.survey_id == survey.id) & SurveyResponse.submitted.is_(True)
    groups = {
        grp: int(n)
        for grp, n in await store.session.execute(
            select(SurveyResponse.grp, func.count()).where(submitted).group_by(SurveyResponse.grp)
        )
    }
    responded = sum(groups.values())
    shown = {g: n for g, n in groups.items() if g and n >= survey.min_group}
    counted = await store.session.execute(
        select(SurveyAnswer.question_id, SurveyResponse.grp, SurveyAnswer.choice, func.count())
        .join(SurveyResponse, SurveyResponse.key == SurveyAnswer.response_key)
        .where(submitted)
        .group_by(SurveyAnswer.question_id, SurveyResponse.grp, SurveyAnswer.choice)
    )
    per_question: dict[int, list[tuple[str, int, int]]] = {}
    for question_id, grp, choice, n in counted:
        per_question.setdefault(question_id, []).append((grp, choice, int(n)))
    respondents = {
        question_id: int(n)
        for question_id, n in await store.session.execute(
            select(SurveyAnswer.question_id, func.count(func.distinct(SurveyAnswer.response_key)))
            .join(SurveyResponse, SurveyResponse.key == SurveyAnswer.response_key)
            .where(submitted)
            .group_by(SurveyAnswer.question_id)
        )
    }
    texts: dict[int, list[str]] = {}
    for question_id, text in await store.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.text)
        .join(SurveyResponse, SurveyResponse.key == SurveyAnswer.response_key)
        .where(submitted, SurveyAnswer.text.is_not(None))
        .order_by(SurveyAnswer.question_id, SurveyAnswer.text)
    ):
        texts.setdefault(question_id, []).append(text or "")
    out = []
    for question in await questions(store, survey.id):
        size = SCALE if question.kind == "scale" else len(question.options)
        counts = [0] * size
        by_group: dict[str, list[int]] = {g: [0] * size for g in shown}
        for grp, choice, n in per_question.get(question.id, []):
            if 1 <= choice <= size:
                counts[choice - 1] += n
                if grp in by_group:
                    by_group[grp][choice - 1] += n
        out.append(
            QuestionResult(
                question=question,
                answered=respondents.get(question.id, 0),
                counts=counts,
                texts=texts.get(question.id, []),
                by_group=by_group if question.kind != "text" else {},
            )
        )
    # Groups too small to show (and, after closing, those merged without a name).
    hidden = sum(1 for g, n in groups.items() if g and n < survey.min_group)
    hidden += 1 if "" in groups else 0
    return Results(
        survey=survey,
        asked=asked,
        responded=responded,
        questions=out,
        groups=shown,
        hidden_groups=hidden,
    )
