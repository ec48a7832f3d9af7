"""`unionbot votes check|create FILE`: a meeting's votes prepared ahead, from a file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from storage.errors import VoteError
from storage.meetings import service as meetings
from storage.store import Store
from storage.votes import definition
from storage.votes import service as votes


def _read(state: Any, file: Path) -> definition.Plan:
    try:
        source = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    try:
        return definition.parse(source)
    except definition.PlanErrors as exc:
        click.echo(state.t("votes.def.title_errors", count=len(exc.problems)), err=True)
        for problem in exc.problems:
            what = state.t(problem.key, **problem.params)
            click.echo("  " + state.t("votes.def.at_line", line=problem.line, what=what), err=True)
        raise SystemExit(1) from None


def register(
    main: click.Group, pass_state: Callable[..., Any], prepare: Callable[[Any], None]
) -> None:
    from commands._cli import _actor_for, in_store

    @main.group("votes")
    def votes_group() -> None:
        """A meeting's votes (表决, 选举, 民主评议) prepared from a file."""

    @votes_group.command("check")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @pass_state
    def check(state: Any, file: Path) -> None:
        """Check a votes file; every problem is listed with its line."""
        plan = _read(state, file)
        click.echo(state.t("cli.votes.good", count=len(plan.votes), meeting=plan.meeting))

    @votes_group.command("create")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @click.option("--by", metavar="STAFF_NO", help="The officer who prepares them.")
    @pass_state
    def create(state: Any, file: Path, by: str | None) -> None:
        """Prepare every vote in FILE for its meeting (each opens with /vote open ID)."""
        plan = _read(state, file)
        prepare(state)

        async def work(store: Store) -> list[int]:
            store.actor = await _actor_for(store, by)
            meeting = await meetings.get(store, plan.meeting)
            made = []
            for planned in plan.votes:
                vote = await votes.create(
                    store,
                    meeting,
                    kind=planned.kind,
                    title=planned.title,
                    text=planned.text,
                    secret=planned.secret,
                    seats=planned.seats,
                    candidate_nos=[c.split(":", 1)[0] for c in planned.candidates] or None,
                    posts={
                        no: post
                        for no, _, post in (c.partition(":") for c in planned.candidates)
                        if post
                    },
                    base=planned.base,
                    share="2/3" if planned.two_thirds else "1/2",
                    scrutineer_nos=list(planned.scrutineers) or None,
                    minutes=planned.minutes,
                    categories=planned.categories,
                    weights=planned.weights,
                )
                made.append(vote.id)
            return made

        try:
            made = in_store(state, work)
        except VoteError as exc:
            raise click.ClickException(state.t(exc.key, **exc.params)) from None
        click.echo(
            state.t(
                "cli.votes.created",
                count=len(made),
                ids=", ".join(f"#{n}" for n in made),
                meeting=plan.meeting,
            )
        )
