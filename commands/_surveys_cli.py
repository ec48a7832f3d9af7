"""`unionbot surveys check|create FILE` and `unionbot export survey ID` (what it holds:
`storage.surveys.export`; text that looks like a formula stays text: `commands._export`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from storage.errors import SurveyError
from storage.store import Actor, Store
from storage.surveys import definition, export
from storage.surveys import service as surveys


def _read(state: Any, file: Path) -> definition.Definition:
    try:
        source = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    try:
        return definition.parse(source, state.settings.tz)
    except definition.DefinitionErrors as exc:
        click.echo(state.t("surveys.def.title_errors", count=len(exc.problems)), err=True)
        for problem in exc.problems:
            what = state.t(problem.key, **problem.params)
            click.echo(
                "  " + state.t("surveys.def.at_line", line=problem.line, what=what), err=True
            )
        raise SystemExit(1) from None


def register(
    main: click.Group, pass_state: Callable[..., Any], prepare: Callable[[Any], None]
) -> None:
    from commands._cli import _actor_for, in_store
    from commands._export import file_options

    @main.group("surveys")
    def surveys_group() -> None:
        """Surveys (调查问卷) from files."""

    @surveys_group.command("check")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @pass_state
    def check(state: Any, file: Path) -> None:
        """Check a survey file; every problem is listed with its line."""
        parsed = _read(state, file)
        click.echo(state.t("cli.surveys.good", title=parsed.title, count=len(parsed.questions)))

    @surveys_group.command("create")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
    @click.option("--by", metavar="STAFF_NO", help="Who makes it (the results go to them).")
    @click.option("--publish", is_flag=True, help="Publish it at once.")
    @pass_state
    def create(state: Any, file: Path, by: str | None, publish: bool) -> None:
        """Make a school-level survey from FILE (a draft, unless --publish)."""
        parsed = _read(state, file)
        prepare(state)

        async def work(store: Store) -> tuple[int, str, int]:
            store.actor = await _actor_for(store, by)
            survey = await surveys.create(
                store, parsed, owner_scope="", created_by=store.actor.staff_id
            )
            asked = await surveys.publish(store, survey) if publish else 0
            return survey.id, survey.status, asked

        try:
            survey_id, status, asked = in_store(state, work)
        except SurveyError as exc:
            raise click.ClickException(state.t(exc.key, **exc.params)) from None
        click.echo(
            state.t(
                "cli.surveys.created",
                id=survey_id,
                status=state.t(f"surveys.status.{status}"),
                count=asked,
            )
        )

    export_group = main.commands.get("export")
    assert isinstance(export_group, click.Group), "commands._export registers it first"

    @export_group.command("survey")
    @click.argument("survey_id", type=int)
    @file_options("survey-ID.FORMAT")
    @pass_state
    def export_survey(state: Any, survey_id: int, fmt: str, out: Path | None) -> None:
        """Every submitted response (no identity for an anonymous survey) and the counts."""
        from commands._export import Sheet, _csv, _xlsx

        prepare(state)
        try:
            columns, rows, counts = in_store(
                state, lambda store: export.rows(store, survey_id), Actor(None, "cli", "export")
            )
        except SurveyError as exc:
            raise click.ClickException(state.t(exc.key, **exc.params)) from None
        target = out or Path(f"survey-{survey_id}.{fmt}")
        sheets: list[Sheet] = [
            ("answers", columns, rows),
            ("counts", ("question", "choice", "count"), counts),
        ]
        target.write_bytes(_xlsx(sheets) if fmt == "xlsx" else _csv(columns, rows))
        target.chmod(0o600)
        click.echo(state.t("cli.surveys.exported", count=len(rows), file=target))
