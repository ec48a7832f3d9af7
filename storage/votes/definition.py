"""Votes prepared in a file, checked line by line before anything is saved.

The congress office usually prepares a meeting's votes ahead (the reports to approve, the
election's candidates, who is evaluated): `unionbot votes create FILE` takes them all at
once, and names every mistake with its line.

    meeting = 2
    scrutineers = ["D2002", "D2003"]     # for every vote below that names none

    [[vote]]
    kind = "resolution"                  # resolution | election | evaluation
    title = "关于校长工作报告的决议"
    text = "https://…/report.pdf"
    base = "expected"                    # expected | present | cast
    two_thirds = false                   # a statute change: true
    secret = true                        # a resolution may be false (a show of hands)
    minutes = 30                         # closes 30 minutes after it opens (optional)

    [[vote]]
    kind = "election"
    title = "工会委员会委员选举"
    seats = 3
    candidates = ["T1001", "T1002", "O4101", "O4102"]

    [[vote]]
    kind = "evaluation"
    title = "2026年度校领导民主测评"
    candidates = ["O4001:工会主席", "H5003:人事处处长"]
    categories = { D2001 = "教师代表", D2101 = "干部代表" }   # optional, per delegate
    weights = { "教师代表" = 0.6, "干部代表" = 0.4 }          # optional
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage import tomlfile
from storage.errors import VoteError
from storage.tomlfile import Problem
from storage.votes import rules

KINDS = ("resolution", "election", "evaluation")


@dataclass(frozen=True, slots=True)
class Planned:
    kind: str
    title: str
    text: str
    secret: bool
    seats: int
    candidates: tuple[str, ...]  # "STAFF_NO" or "STAFF_NO:POST"
    base: str
    two_thirds: bool
    scrutineers: tuple[str, ...]
    minutes: int | None
    categories: dict[str, str] = field(default_factory=dict)  # staff number -> category
    weights: dict[str, float] = field(default_factory=dict)  # category -> weight


@dataclass(frozen=True, slots=True)
class Plan:
    meeting: int
    votes: tuple[Planned, ...]


class PlanErrors(VoteError):
    """Everything wrong with a votes file, each with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("votes.error.file", count=len(problems))
        self.problems = problems


def _names(value: object) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        return None
    return tuple(v.strip() for v in value)


def parse(source: str) -> Plan:
    data, broken = tomlfile.load(source, "votes.def.syntax")
    if data is None:
        assert broken is not None
        raise PlanErrors([broken])
    where = tomlfile.Lines(source, "vote")
    problems: list[Problem] = []

    def problem(key: str, at: str, index: int | None = None, **params: object) -> None:
        problems.append(Problem(where.key(at, index), key, params))

    for name in sorted(set(data) - {"meeting", "scrutineers", "vote"}):
        problem("votes.def.unknown_key", name, name=name)
    meeting = data.get("meeting")
    if not isinstance(meeting, int) or isinstance(meeting, bool) or meeting < 1:
        problem("votes.def.meeting", "meeting")
    shared = _names(data.get("scrutineers", []))
    if shared is None:
        problem("votes.def.names", "scrutineers", name="scrutineers")
    raw = data.get("vote", [])
    if not isinstance(raw, list) or not raw:
        problem("votes.def.no_votes", "meeting")
        raw = []
    planned = []
    known = {"kind", "title", "text", "secret", "seats", "candidates", "base", "two_thirds"}
    known |= {"scrutineers", "minutes", "categories", "weights"}
    for n, table in enumerate(raw):
        if not isinstance(table, dict):
            problem("votes.def.table", "kind", n, number=n + 1)
            continue
        errors_before = len(problems)
        for name in sorted(set(table) - known):
            problem("votes.def.unknown_key", name, n, name=name)
        kind = table.get("kind")
        if kind not in KINDS:
            problem("votes.def.kind", "kind", n, number=n + 1, allowed=", ".join(KINDS))
        title = str(table.get("title", "")).strip()
        if not title or len(title) > 200:
            problem("votes.def.title", "title", n, number=n + 1)
        secret = table.get("secret", True)
        if not isinstance(secret, bool) or (kind in ("election", "evaluation") and not secret):
            problem("votes.def.secret", "secret", n, number=n + 1)
        seats = table.get("seats", 1)
        if not isinstance(seats, int) or isinstance(seats, bool) or not 1 <= seats <= 50:
            problem("votes.def.seats", "seats", n, number=n + 1)
        candidates = _names(table.get("candidates", []))
        if candidates is None:
            problem("votes.def.names", "candidates", n, name="candidates")
        elif kind == "election" and isinstance(seats, int) and len(candidates) < seats:
            problem("votes.def.candidates", "candidates", n, number=n + 1, seats=seats)
        elif kind == "evaluation" and not candidates:
            problem("votes.def.evaluated", "candidates", n, number=n + 1)
        base = table.get("base", rules.Base.EXPECTED.value)
        if base not in {b.value for b in rules.Base}:
            problem("votes.def.base", "base", n, number=n + 1)
        two_thirds = table.get("two_thirds", False)
        if not isinstance(two_thirds, bool):
            problem("votes.def.boolean", "two_thirds", n, name="two_thirds")
        own = _names(table.get("scrutineers", [])) if "scrutineers" in table else shared
        if own is None:
            problem("votes.def.names", "scrutineers", n, name="scrutineers")
        elif (secret is not False or kind != "resolution") and len(set(own)) < 2:
            problem(
                "votes.def.scrutineers",
                "scrutineers" if "scrutineers" in table else "kind",
                n,
                number=n + 1,
            )
        minutes = table.get("minutes")
        if minutes is not None and (not isinstance(minutes, int) or not 1 <= minutes <= 1440):
            problem("votes.def.minutes", "minutes", n, number=n + 1)
        categories = table.get("categories", {})
        if not isinstance(categories, dict) or not all(
            isinstance(v, str) and v for v in categories.values()
        ):
            problem("votes.def.categories", "categories", n, number=n + 1)
            categories = {}
        weights = table.get("weights", {})
        if not isinstance(weights, dict) or not all(
            isinstance(w, int | float) and not isinstance(w, bool) and 0 < w <= 100
            for w in weights.values()
        ):
            problem("votes.def.weights", "weights", n, number=n + 1)
            weights = {}
        if (categories or weights) and kind != "evaluation":
            problem(
                "votes.def.categories", "categories" if categories else "weights", n, number=n + 1
            )
        if len(problems) == errors_before:
            planned.append(
                Planned(
                    kind=str(kind),
                    title=title,
                    text=str(table.get("text", "")),
                    secret=bool(secret),
                    seats=int(seats),
                    candidates=candidates or (),
                    base=str(base),
                    two_thirds=bool(two_thirds),
                    scrutineers=own or (),
                    minutes=minutes,
                    categories={str(k): str(v) for k, v in categories.items()},
                    weights={str(k): float(v) for k, v in weights.items()},
                )
            )
    if problems:
        raise PlanErrors(sorted(problems, key=lambda p: p.line))
    assert isinstance(meeting, int)
    return Plan(meeting=meeting, votes=tuple(planned))
