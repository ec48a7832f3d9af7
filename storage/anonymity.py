"""Forgetting the order in which people answered.

An anonymous answer names nobody, but a database remembers more than its columns: rows
get ids in the order they were written, PostgreSQL keeps a table's rows in the order of
their inserts and updates, and the row that says "has answered" was written at the same
moment as the answers. Lined up, the two orders could say who answered what. At closing,
`reshuffle_survey` rewrites both in a random order: the responses under new random keys,
the invitations under new ids, and the rows they replace are deleted. (PostgreSQL keeps
deleted rows until VACUUM reclaims them; the README's threat model says so.)

Secret votes (issue 21) come through here too (`reshuffle_vote`): one mechanism for both.
"""

from __future__ import annotations

import random
import secrets

from sqlalchemy import delete, insert, select

from storage.models import (
    Ballot,
    BallotMark,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    VoteVoter,
)
from storage.store import Store

_shuffle = random.SystemRandom().shuffle


async def reshuffle_survey(store: Store, survey_id: int) -> None:
    """Rewrite a survey's responses (with their answers) and invitations in random order."""
    session = store.session
    await session.flush()
    responses = list(
        (
            await session.execute(
                select(SurveyResponse.key, SurveyResponse.grp, SurveyResponse.submitted).where(
                    SurveyResponse.survey_id == survey_id
                )
            )
        ).all()
    )
    answers: dict[str, list[tuple[int, int, str | None]]] = {}
    for key, question_id, choice, text in await session.execute(
        select(
            SurveyAnswer.response_key,
            SurveyAnswer.question_id,
            SurveyAnswer.choice,
            SurveyAnswer.text,
        )
        .join(SurveyResponse, SurveyResponse.key == SurveyAnswer.response_key)
        .where(SurveyResponse.survey_id == survey_id)
    ):
        answers.setdefault(key, []).append((question_id, choice, text))
    invited = list(
        (
            await session.execute(
                select(SurveyInvitation.staff_id, SurveyInvitation.answered).where(
                    SurveyInvitation.survey_id == survey_id
                )
            )
        ).all()
    )
    await session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == survey_id))
    await session.execute(delete(SurveyInvitation).where(SurveyInvitation.survey_id == survey_id))
    _shuffle(responses)
    _shuffle(invited)
    rewritten = [
        (secrets.token_hex(16).upper(), grp, submitted, answers.get(key, []))
        for key, grp, submitted in responses
    ]
    if rewritten:
        await session.execute(
            insert(SurveyResponse),
            [
                {
                    "key": key,
                    "survey_id": survey_id,
                    "staff_id": None,
                    "grp": grp,
                    "submitted": done,
                }
                for key, grp, done, _ in rewritten
            ],
        )
        rows = [
            {"response_key": key, "question_id": q, "choice": c, "text": t}
            for key, _, _, given in rewritten
            for q, c, t in given
        ]
        if rows:
            await session.execute(insert(SurveyAnswer), rows)
    if invited:
        await session.execute(
            insert(SurveyInvitation),
            [
                {"survey_id": survey_id, "staff_id": staff_id, "answered": answered}
                for staff_id, answered in invited
            ],
        )
    # The objects loaded before stand for rows that are gone: forget them (and only them).
    for stale in list(session.sync_session.identity_map.values()):
        if isinstance(stale, SurveyResponse | SurveyInvitation | SurveyAnswer):
            session.expunge(stale)


async def reshuffle_vote(store: Store, vote_id: int) -> None:
    """Rewrite a secret vote's ballots (under new keys, with their marks) and its voters in
    random order."""
    session = store.session
    await session.flush()
    marks: dict[str, list[tuple[int, str]]] = {}
    for key, item, value in await session.execute(
        select(BallotMark.ballot_key, BallotMark.item, BallotMark.value)
        .join(Ballot, Ballot.key == BallotMark.ballot_key)
        .where(Ballot.vote_id == vote_id)
    ):
        marks.setdefault(key, []).append((item, value))
    keys = list(
        (
            await session.execute(
                select(Ballot.key, Ballot.category).where(Ballot.vote_id == vote_id)
            )
        ).all()
    )
    voters = list(
        await session.scalars(select(VoteVoter.staff_id).where(VoteVoter.vote_id == vote_id))
    )
    await session.execute(delete(Ballot).where(Ballot.vote_id == vote_id))
    await session.execute(delete(VoteVoter).where(VoteVoter.vote_id == vote_id))
    _shuffle(keys)
    _shuffle(voters)
    fresh = [
        (secrets.token_hex(16).upper(), category, marks.get(key, [])) for key, category in keys
    ]
    if fresh:
        await session.execute(
            insert(Ballot),
            [{"key": k, "vote_id": vote_id, "category": c} for k, c, _ in fresh],
        )
        rows = [{"ballot_key": k, "item": i, "value": v} for k, _, given in fresh for i, v in given]
        if rows:
            await session.execute(insert(BallotMark), rows)
    if voters:
        await session.execute(
            insert(VoteVoter), [{"vote_id": vote_id, "staff_id": s} for s in voters]
        )
    for stale in list(session.sync_session.identity_map.values()):
        if isinstance(stale, Ballot | BallotMark | VoteVoter):
            session.expunge(stale)
