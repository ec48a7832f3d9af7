"""The benefits policy pack: which items the union offers, to whom, how often, and how a
claim is reviewed. Rules are data (a TOML file), not code; see default_policy.toml.

`load` validates the whole file and reports every problem at once, each naming the item
and the field, so an officer can fix a pack in one pass.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).with_name("default_policy.toml")
FREQUENCIES = ("once", "once_per_event", "yearly", "every_n_years")
EMPLOYMENT_TYPES = ("establishment", "agency", "non_establishment")
FIELDS = ("event_date", "description", "amount_claimed")
LEVELS = ("sub_union", "school")


class PolicyError(ValueError):
    """A pack that cannot be used; `problems` lists every one ("item 'x', field 'y': ...")."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Band:
    """An age band with its own frequency (every N years)."""

    min_age: int
    max_age: int
    every_years: int


@dataclass(frozen=True, slots=True)
class Item:
    code: str
    name_zh: str
    name_en: str
    benefit_zh: str = ""
    benefit_en: str = ""
    amount: int = 0
    source_zh: str = ""
    source_en: str = ""
    frequency: str = "once_per_event"
    every_years: int = 1
    bands: tuple[Band, ...] = ()
    members_only: bool = True
    union_funded: bool = False
    employment: tuple[str, ...] = ()
    min_service_years: int = 0
    min_age: int | None = None
    max_age: int | None = None
    delegates_only: bool = False
    apply: bool = False
    claim_within_days: int = 0
    fields: tuple[str, ...] = ()
    evidence_zh: str = ""
    evidence_en: str = ""
    review: tuple[str, ...] = ("sub_union", "school")
    # An application is an alert for its reviewers: told at once and repeated in their
    # next digest (serious-illness aid cannot wait for a weekly digest).
    alert: bool = False

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def benefit(self, lang: str) -> str:
        return self.benefit_zh if lang == "zh" else self.benefit_en

    def source(self, lang: str) -> str:
        return self.source_zh if lang == "zh" else self.source_en

    def evidence(self, lang: str) -> str:
        return self.evidence_zh if lang == "zh" else self.evidence_en


@dataclass(frozen=True, slots=True)
class Pack:
    name_zh: str
    name_en: str
    items: tuple[Item, ...]
    review_reminder_days: int = 5
    source: str = ""
    by_code: dict[str, Item] = field(default_factory=dict, compare=False, repr=False)

    def item(self, code_or_name: str) -> Item | None:
        """An item by its code or by its name in either language."""
        wanted = code_or_name.strip().casefold()
        if wanted in self.by_code:
            return self.by_code[wanted]
        for item in self.items:
            if wanted in (item.name_zh.casefold(), item.name_en.casefold()):
                return item
        return None


_ITEM_KEYS = {f for f in Item.__dataclass_fields__}


def _item(raw: dict[str, Any], where: str, problems: list[str]) -> Item | None:
    def bad(name: str, why: str) -> None:
        problems.append(f"{where}, field '{name}': {why}")

    for key in raw:
        if key not in _ITEM_KEYS:
            bad(key, "unknown field")
    for key in ("code", "name_zh", "name_en"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            bad(key, "required text")
    checks: dict[str, tuple[type, ...]] = {
        "amount": (int,),
        "every_years": (int,),
        "min_service_years": (int,),
        "min_age": (int,),
        "max_age": (int,),
        "claim_within_days": (int,),
        "members_only": (bool,),
        "union_funded": (bool,),
        "delegates_only": (bool,),
        "apply": (bool,),
        "alert": (bool,),
    }
    for key, kinds in checks.items():
        value = raw.get(key)
        if value is None:
            continue
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            bad(key, f"must be {'true or false' if bool in kinds else 'a whole number'}")
        elif isinstance(value, int) and not isinstance(value, bool) and value < 0:
            bad(key, "must not be negative")
    frequency = raw.get("frequency", "once_per_event")
    if frequency not in FREQUENCIES:
        bad("frequency", f"{frequency!r}, use one of {', '.join(FREQUENCIES)}")
    for key, allowed in (("employment", EMPLOYMENT_TYPES), ("fields", FIELDS), ("review", LEVELS)):
        value = raw.get(key, [])
        if not isinstance(value, list) or any(v not in allowed for v in value):
            bad(key, f"a list of {', '.join(allowed)}")
    if raw.get("apply") and not raw.get("review", ["sub_union", "school"]):
        bad("review", "an item people apply for needs at least one review level")
    bands: list[Band] = []
    for n, band in enumerate(raw.get("bands", []), start=1):
        try:
            bands.append(Band(int(band["min_age"]), int(band["max_age"]), int(band["every_years"])))
        except (KeyError, TypeError, ValueError):
            bad(f"bands[{n}]", "needs min_age, max_age and every_years as whole numbers")
    if problems:
        return None
    values = {k: v for k, v in raw.items() if k != "bands"}
    for key in ("employment", "fields", "review"):
        if key in values:
            values[key] = tuple(values[key])
    return Item(**values, bands=tuple(bands))


def parse(text: str, source: str) -> Pack:
    """A pack from TOML text; PolicyError with every problem if it cannot be used."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [f"not valid TOML ({exc})"]) from None
    problems: list[str] = []
    head = data.get("pack", {})
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(data.get("item", []), start=1):
        where = f"item {raw.get('code', n)!r}"
        before = len(problems)
        item = _item(raw, where, problems)
        if item is not None and len(problems) == before:
            if item.code in seen:
                problems.append(f"{where}, field 'code': used twice")
            seen.add(item.code)
            items.append(item)
    if not items and not problems:
        problems.append("no [[item]] at all")
    reminder = head.get("review_reminder_days", 5)
    if not isinstance(reminder, int) or isinstance(reminder, bool) or reminder < 1:
        problems.append("[pack], field 'review_reminder_days': a whole number of days, 1 or more")
    if problems:
        raise PolicyError(source, problems)
    return Pack(
        name_zh=str(head.get("name_zh", "")),
        name_en=str(head.get("name_en", "")),
        items=tuple(items),
        review_reminder_days=reminder,
        source=source,
        by_code={item.code.casefold(): item for item in items},
    )


def load(path: str | Path | None = None) -> Pack:
    """The pack at `path`, or the default one shipped with the bot."""
    chosen = Path(path) if path else DEFAULT_FILE
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(chosen), [f"cannot be read ({exc.strerror})"]) from None
    return parse(text, str(chosen))


class PolicyHolder:
    """The pack in force, loaded at start-up and replaced whole by a reload."""

    def __init__(self, path: str | None) -> None:
        self.path = path or None
        self.pack = load(self.path)

    def reload(self) -> Pack:
        self.pack = load(self.path)  # a bad file raises and leaves the old pack in force
        return self.pack


_HOLDERS: dict[str | None, PolicyHolder] = {}


def holder(path: str | None) -> PolicyHolder:
    """The one holder per configured file, shared by every message."""
    key = path or None
    if key not in _HOLDERS:
        _HOLDERS[key] = PolicyHolder(key)
    return _HOLDERS[key]
