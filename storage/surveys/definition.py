"""A survey written as a small TOML file, checked before anything is saved.

Officers draft a survey in a text editor (or have the union's office send them one) and
hand it to `unionbot surveys create FILE` or `/survey new` with the file attached. Every
mistake is reported with the line it is on, in the reader's language (`SurveyError`
carries a catalogue key), and all mistakes at once, so one round of fixes is enough.

    title = "2026年教职工食堂满意度调查"
    intro = "请根据最近一个月的就餐体验填写。"
    audience = "everyone"  # everyone | delegates | sub_union:计算机学院分工会 | employment:agency
    anonymous = true
    opens = "2026-12-05 08:00"   # in the union's zone
    closes = "2026-12-12 18:00"
    reminders = "2d 2h"          # before closing, to those who have not answered
    min_group = 5                # smallest group shown in a breakdown

    [[question]]
    kind = "single"              # single | multiple | scale | text
    prompt = "总体满意度"
    options = ["满意", "基本满意", "不满意"]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from storage import tomlfile
from storage.errors import SurveyError
from storage.tomlfile import Problem

KINDS = ("single", "multiple", "scale", "text")
AUDIENCES = ("everyone", "delegates", "sub_union", "employment")
EMPLOYMENT = ("establishment", "agency", "non_establishment")
SCALE = 5  # a scale question is answered 1 to 5
MAX_OPTIONS = 10
MAX_QUESTIONS = 30
TEXT_LIMIT = 2000
DEFAULT_REMINDERS = (2 * 24 * 60, 120)  # minutes before closing: 2 days, 2 hours
_OFFSET = re.compile(r"(\d+)\s*(d|h|m|天|小时|分钟?)", re.IGNORECASE)
_UNIT = {"d": 1440, "天": 1440, "h": 60, "小时": 60, "m": 1, "分": 1, "分钟": 1}
_WHEN = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})")


@dataclass(frozen=True, slots=True)
class Question:
    kind: str
    prompt: str
    options: tuple[str, ...] = ()
    max_choices: int | None = None
    max_length: int | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class Definition:
    title: str
    audience: str
    audience_scope: str
    anonymous: bool
    opens_at: datetime
    closes_at: datetime
    questions: tuple[Question, ...]
    intro: str = ""
    min_group: int = 5
    reminder_minutes: tuple[int, ...] = DEFAULT_REMINDERS


class DefinitionErrors(SurveyError):
    """Everything wrong with a survey file, each with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("surveys.error.definition", count=len(problems))
        self.problems = problems


def offsets(value: str) -> tuple[int, ...] | None:
    """'2d 2h' (or 2天 2小时): minutes before closing; None if it does not read."""
    found = _OFFSET.findall(value)
    if not found or _OFFSET.sub("", value).strip(" ,，;；"):
        return None
    return tuple(sorted({int(n) * _UNIT[unit.lower()] for n, unit in found}, reverse=True))


def _when(value: object, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    match = _WHEN.fullmatch(str(value).strip())
    if not match:
        return None
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        return datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None


def parse(source: str, tz: tzinfo) -> Definition:
    """The survey the file describes. Refuses it with every problem and its line."""
    data, broken = tomlfile.load(source, "surveys.def.syntax")
    if broken is not None or data is None:
        assert broken is not None
        raise DefinitionErrors([broken])
    where = tomlfile.Lines(source, "question")
    problems: list[Problem] = []

    def problem(key: str, at: str, question: int | None = None, **params: object) -> None:
        problems.append(Problem(where.key(at, question), key, params))

    known = {"title", "intro", "audience", "anonymous", "opens", "closes", "reminders"}
    known |= {"min_group", "question"}
    for name in sorted(set(data) - known):
        problem("surveys.def.unknown_key", name, name=name)
    title = str(data.get("title", "")).strip()
    if not title or len(title) > 200:
        problem("surveys.def.title", "title")
    audience, scope = str(data.get("audience", "everyone")), ""
    if ":" in audience:
        audience, scope = (part.strip() for part in audience.split(":", 1))
    if audience not in AUDIENCES or (audience in ("sub_union", "employment")) != bool(scope):
        problem("surveys.def.audience", "audience", value=str(data.get("audience")))
    elif audience == "employment" and scope not in EMPLOYMENT:
        problem("surveys.def.employment", "audience", value=scope, allowed=", ".join(EMPLOYMENT))
    anonymous = data.get("anonymous", False)
    if not isinstance(anonymous, bool):
        problem("surveys.def.boolean", "anonymous", name="anonymous")
    opens, closes = _when(data.get("opens", ""), tz), _when(data.get("closes", ""), tz)
    if opens is None:
        problem("surveys.def.when", "opens", name="opens")
    if closes is None:
        problem("surveys.def.when", "closes", name="closes")
    if opens and closes and closes <= opens:
        problem("surveys.def.closes_before_opens", "closes")
    reminders = offsets(str(data.get("reminders", "2d 2h")))
    if reminders is None:
        problem("surveys.def.reminders", "reminders", value=str(data.get("reminders")))
    min_group = data.get("min_group", 5)
    if not isinstance(min_group, int) or isinstance(min_group, bool) or not 1 <= min_group <= 50:
        problem("surveys.def.min_group", "min_group")
    raw_questions = data.get("question", [])
    if not isinstance(raw_questions, list) or not raw_questions:
        problem("surveys.def.no_questions", "title")
        raw_questions = []
    if len(raw_questions) > MAX_QUESTIONS:
        problem("surveys.def.too_many_questions", "title", most=MAX_QUESTIONS)
    questions = [
        q
        for n, raw in enumerate(raw_questions)
        if (q := _question(n, raw, lambda key, at, n=n, **p: problem(key, at, n, **p)))
    ]
    if problems:
        raise DefinitionErrors(sorted(problems, key=lambda p: p.line))
    assert opens and closes and reminders is not None and isinstance(min_group, int)
    return Definition(
        title=title,
        intro=str(data.get("intro", "")).strip(),
        audience=audience,
        audience_scope=scope,
        anonymous=bool(anonymous),
        opens_at=opens,
        closes_at=closes,
        questions=tuple(questions),
        min_group=min_group,
        reminder_minutes=reminders,
    )


def _question(n: int, raw: object, report: Callable[..., None]) -> Question | None:
    """The n-th question (from 0), or None after reporting what is wrong with it."""
    if not isinstance(raw, dict):
        report("surveys.def.question_table", "kind", number=n + 1)
        return None
    ok = True
    for name in sorted(set(raw) - {"kind", "prompt", "options", "max", "max_length", "required"}):
        report("surveys.def.unknown_key", name, name=name)
        ok = False
    kind = str(raw.get("kind", ""))
    if kind not in KINDS:
        report("surveys.def.kind", "kind", number=n + 1, value=kind, allowed=", ".join(KINDS))
        return None
    prompt = str(raw.get("prompt", "")).strip()
    if not prompt or len(prompt) > 500:
        report("surveys.def.prompt", "prompt", number=n + 1)
        ok = False
    options: tuple[str, ...] = ()
    if kind in ("single", "multiple"):
        given = raw.get("options", [])
        options = tuple(str(o).strip() for o in given) if isinstance(given, list) else ()
        if not 2 <= len(options) <= MAX_OPTIONS or not all(options):
            report("surveys.def.options", "options", number=n + 1, most=MAX_OPTIONS)
            ok = False
        elif len(set(options)) != len(options):
            report("surveys.def.duplicate_option", "options", number=n + 1)
            ok = False
    elif "options" in raw:
        report("surveys.def.no_options_here", "options", number=n + 1, kind=kind)
        ok = False
    max_choices = raw.get("max")
    if kind == "multiple":
        if max_choices is None:
            max_choices = len(options)
        if not isinstance(max_choices, int) or not 1 <= max_choices <= max(1, len(options)):
            report("surveys.def.max", "max", number=n + 1)
            ok = False
    elif max_choices is not None:
        report("surveys.def.no_max_here", "max", number=n + 1, kind=kind)
        ok = False
    max_length = raw.get("max_length")
    if kind == "text":
        max_length = TEXT_LIMIT if max_length is None else max_length
        if not isinstance(max_length, int) or not 1 <= max_length <= TEXT_LIMIT:
            report("surveys.def.max_length", "max_length", number=n + 1, most=TEXT_LIMIT)
            ok = False
    elif max_length is not None:
        report("surveys.def.no_max_length_here", "max_length", number=n + 1, kind=kind)
        ok = False
    required = raw.get("required", True)
    if not isinstance(required, bool):
        report("surveys.def.boolean", "required", name="required")
        ok = False
    if not ok:
        return None
    return Question(
        kind=kind,
        prompt=prompt,
        options=options,
        max_choices=max_choices if kind == "multiple" else None,
        max_length=max_length if kind == "text" else None,
        required=bool(required),
    )
