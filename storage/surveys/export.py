"""A survey's export: every submitted response, one row each, with the respondent's staff
number and name for a named survey and none for an anonymous one (whose rows come in the
order the closing shuffle left them), and the counts per choice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage import audit
from storage.models import Staff, SurveyAnswer, SurveyResponse
from storage.store import Store
from storage.surveys import definition
from storage.surveys import service as surveys


async def rows(
    store: Store, survey_id: int
) -> tuple[tuple[str, ...], list[dict[str, Any]], list[dict[str, Any]]]:
    """The answers sheet's columns and rows, and the counts sheet's rows."""
    survey = await surveys.get(store, survey_id)
    questions = await surveys.questions(store, survey.id)
    named = not survey.anonymous
    people: dict[str, tuple[str, str]] = {}
    responses = list(
        await store.session.scalars(
            select(SurveyResponse).where(
                SurveyResponse.survey_id == survey.id, SurveyResponse.submitted.is_(True)
            )
        )
    )
    if named:
        ids = {r.staff_id for r in responses if r.staff_id is not None}
        found = await store.session.execute(
            select(Staff.id, Staff.staff_no, Staff.name).where(Staff.id.in_(ids))
        )
        by_id = {staff_id: (no, name) for staff_id, no, name in found}
        people = {r.key: by_id.get(r.staff_id or 0, ("", "")) for r in responses}
    given: dict[tuple[str, int], list[SurveyAnswer]] = {}
    for answer in await store.session.scalars(
        select(SurveyAnswer)
        .join(SurveyResponse, SurveyResponse.key == SurveyAnswer.response_key)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.submitted.is_(True))
        .order_by(SurveyAnswer.choice)
    ):
        given.setdefault((answer.response_key, answer.question_id), []).append(answer)
    columns = ["response", "group"] + (["staff_no", "name"] if named else [])
    columns += [f"Q{q.position}" for q in questions]
    rows = []
    for n, response in enumerate(responses, start=1):
        row: dict[str, Any] = {"response": n, "group": response.grp}
        if named:
            row["staff_no"], row["name"] = people.get(response.key, ("", ""))
        for q in questions:
            answers = given.get((response.key, q.id), [])
            if q.kind == "text":
                row[f"Q{q.position}"] = answers[0].text or "" if answers else ""
            elif q.kind == "scale":
                row[f"Q{q.position}"] = answers[0].choice if answers else ""
            else:
                row[f"Q{q.position}"] = "; ".join(
                    q.options[a.choice - 1] for a in answers if a.choice <= len(q.options)
                )
        rows.append(row)
    results = await surveys.results(store, survey)
    counts: list[dict[str, Any]] = []
    for r in results.questions:
        labels = r.question.options or [str(n) for n in range(1, definition.SCALE + 1)]
        for label, count in zip(labels, r.counts, strict=False):
            counts.append({"question": f"Q{r.question.position}", "choice": label, "count": count})
    await audit.record(store, "survey.export", "survey", survey.id, rows=len(rows))
    return tuple(columns), rows, counts
