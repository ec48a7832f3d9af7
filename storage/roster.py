"""The staff roster: reading CSV/XLSX files, validating rows, and importing them.

Headers may be English or Chinese. A bad row is reported with its line number and
the reason (as a catalogue key with parameters, so the CLI can say it in the
operator's language); good rows still go in. Re-importing updates by staff_no and
never deletes anyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from storage import audit
from storage.clock import utcnow
from storage.models import EmploymentType, Staff, StaffRole
from storage.store import Store
from storage.tables import RowProblem, day_of, read_table

COLUMNS = (
    "staff_no",
    "name",
    "department",
    "sub_union",
    "employment_type",
    "union_member",
    "delegate",
    "delegation",
    "roles",
    "birth_date",
    "hire_date",
    "email",
    "phone",
)

HEADER_ALIASES: dict[str, str] = {
    "工号": "staff_no",
    "职工号": "staff_no",
    "教工号": "staff_no",
    "编号": "staff_no",
    "姓名": "name",
    "部门": "department",
    "单位": "department",
    "所在单位": "department",
    "所在部门": "department",
    "分工会": "sub_union",
    "所属分工会": "sub_union",
    "用工类型": "employment_type",
    "编制类型": "employment_type",
    "人员类别": "employment_type",
    "是否会员": "union_member",
    "会员": "union_member",
    "工会会员": "union_member",
    "是否代表": "delegate",
    "代表": "delegate",
    "教代会代表": "delegate",
    "代表团": "delegation",
    "所属代表团": "delegation",
    "角色": "roles",
    "出生日期": "birth_date",
    "生日": "birth_date",
    "入职日期": "hire_date",
    "参加工作时间": "hire_date",
    "入校时间": "hire_date",
    "邮箱": "email",
    "电子邮箱": "email",
    "电子邮件": "email",
    "电话": "phone",
    "手机": "phone",
    "手机号": "phone",
    "联系电话": "phone",
}

EMPLOYMENT_WORDS = {
    "establishment": EmploymentType.ESTABLISHMENT,
    "事业编制": EmploymentType.ESTABLISHMENT,
    "编制": EmploymentType.ESTABLISHMENT,
    "在编": EmploymentType.ESTABLISHMENT,
    "agency": EmploymentType.AGENCY,
    "人事代理": EmploymentType.AGENCY,
    "non_establishment": EmploymentType.NON_ESTABLISHMENT,
    "non-establishment": EmploymentType.NON_ESTABLISHMENT,
    "非事业编制": EmploymentType.NON_ESTABLISHMENT,
    "编外": EmploymentType.NON_ESTABLISHMENT,
    "合同制": EmploymentType.NON_ESTABLISHMENT,
}
YES = {"yes", "y", "true", "1", "是", "√", "✓"}
NO = {"no", "n", "false", "0", "否", "", "×"}
# Roles that take a scope, and what the scope means.
SCOPED_ROLES = {"officer": "sub_union", "handler": "department"}
ROLE_NAMES = {"committee", "head", "officer", "handler", "admin", "mediator"}
MAX_TEXT = 100
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_STAFF_NO = re.compile(r"[A-Za-z0-9_\-]{1,32}")


class RowError(ValueError):
    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class RosterRow:
    staff_no: str
    name: str
    department: str = ""
    sub_union: str = ""
    employment_type: str = EmploymentType.ESTABLISHMENT
    union_member: bool = True
    delegate: bool = False
    delegation: str | None = None
    roles: tuple[tuple[str, str], ...] | None = None  # None: the file has no roles column
    birth_date: date | None = None
    hire_date: date | None = None
    email: str | None = None
    phone: str | None = None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)


# ---------------------------------------------------------------- reading files


def normalise_header(raw: str) -> str | None:
    key = raw.strip().lstrip("\ufeff").strip()
    lowered = key.lower().replace(" ", "_")
    if lowered in COLUMNS:
        return lowered
    return HEADER_ALIASES.get(key)


def read_file(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[RowProblem]]:
    """Rows as (line number, column -> text); problems with the header itself."""
    return read_table(path, normalise_header, ("staff_no", "name"))


# ---------------------------------------------------------------- validating rows


def _text(values: dict[str, str], name: str, *, required: bool = False) -> str:
    value = values.get(name, "").strip()
    if required and not value:
        raise RowError("roster.problem.required", column=name)
    if len(value) > MAX_TEXT:
        raise RowError("roster.problem.too_long", column=name, max=MAX_TEXT)
    return value


def _flag(values: dict[str, str], name: str, default: bool) -> bool:
    raw = values.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in YES:
        return True
    if word in NO:
        return False
    raise RowError("roster.problem.yes_no", column=name, value=raw)


def _date(values: dict[str, str], name: str) -> date | None:
    raw = values.get(name, "").strip()
    if not raw:
        return None
    try:
        return day_of(raw)
    except ValueError:
        raise RowError("roster.problem.date", column=name, value=raw) from None


def parse_roles(
    raw: str, *, delegation: str | None, department: str, sub_union: str
) -> tuple[tuple[str, str], ...]:
    roles: list[tuple[str, str]] = []
    for part in re.split(r"[;；,，]", raw):
        part = part.strip()
        if not part:
            continue
        name, _, scope = part.partition(":")
        name, scope = name.strip().lower(), scope.strip()
        if name not in ROLE_NAMES:
            raise RowError("roster.problem.role", role=part)
        if name == "head":
            if scope:
                raise RowError("roster.problem.role_scope", role=part)
            if not delegation:
                raise RowError("roster.problem.head_without_delegation")
            scope = delegation
        elif name in ("committee", "admin", "mediator") and scope:
            raise RowError("roster.problem.role_scope", role=part)
        elif name == "handler" and not scope:
            raise RowError("roster.problem.handler_scope", role=part)
        roles.append((name, scope))
    return tuple(dict.fromkeys(roles))


def validate(values: dict[str, str]) -> RosterRow:
    staff_no = _text(values, "staff_no", required=True)
    if not _STAFF_NO.fullmatch(staff_no):
        raise RowError("roster.problem.staff_no", value=staff_no)
    name = _text(values, "name", required=True)
    employment_raw = values.get("employment_type", "").strip()
    employment = EmploymentType.ESTABLISHMENT
    if employment_raw:
        found = EMPLOYMENT_WORDS.get(employment_raw.lower())
        if found is None:
            raise RowError("roster.problem.employment_type", value=employment_raw)
        employment = found
    delegate = _flag(values, "delegate", False)
    delegation = _text(values, "delegation") or None
    if delegate and not delegation:
        raise RowError("roster.problem.delegate_without_delegation")
    department = _text(values, "department")
    sub_union = _text(values, "sub_union")
    roles = None
    if "roles" in values:
        roles = parse_roles(
            values["roles"], delegation=delegation, department=department, sub_union=sub_union
        )
    email = _text(values, "email") or None
    if email and not _EMAIL.fullmatch(email):
        raise RowError("roster.problem.email", value=email)
    return RosterRow(
        staff_no=staff_no,
        name=name,
        department=department,
        sub_union=sub_union,
        employment_type=employment,
        union_member=_flag(values, "union_member", True),
        delegate=delegate,
        delegation=delegation,
        roles=roles,
        birth_date=_date(values, "birth_date"),
        hire_date=_date(values, "hire_date"),
        email=email.lower() if email else None,
        phone=_text(values, "phone") or None,
    )


# ---------------------------------------------------------------- importing

_FIELDS = (
    "name",
    "department",
    "sub_union",
    "employment_type",
    "union_member",
    "delegate",
    "delegation",
    "birth_date",
    "hire_date",
    "email",
    "phone",
)


async def import_rows(
    store: Store,
    rows: Iterable[tuple[int, dict[str, str]]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update staff by staff_no; bad rows become problems, good ones still go in."""
    report = ImportReport()
    parsed: list[tuple[int, RosterRow]] = []
    seen: dict[str, int] = {}
    for line, values in rows:
        try:
            row = validate(values)
        except RowError as exc:
            report.problems.append(RowProblem(line, exc.key, exc.params))
        else:
            if row.staff_no in seen:
                report.problems.append(
                    RowProblem(
                        line,
                        "roster.problem.duplicate",
                        {"staff_no": row.staff_no, "first": seen[row.staff_no]},
                    )
                )
            else:
                seen[row.staff_no] = line
                parsed.append((line, row))
        if progress:
            progress(1)
    existing = (
        {
            staff.staff_no: staff
            for staff in await store.session.scalars(
                select(Staff).where(Staff.staff_no.in_(list(seen)))
            )
        }
        if seen
        else {}
    )
    now = utcnow()
    for count, (_line, row) in enumerate(parsed, start=1):
        staff = existing.get(row.staff_no)
        if staff is None:
            staff = Staff(
                staff_no=row.staff_no,
                created_at=now,
                updated_at=now,
                **{name: getattr(row, name) for name in _FIELDS},
            )
            staff.roles = [StaffRole(role=r, scope=s) for r, s in (row.roles or ())]
            store.session.add(staff)
            await audit.record(
                store,
                "staff.create",
                "staff",
                staff.staff_no,
                roles=[f"{r}:{s}" if s else r for r, s in (row.roles or ())],
            )
            report.created += 1
        else:
            changed = [name for name in _FIELDS if getattr(staff, name) != getattr(row, name)]
            for name in changed:
                setattr(staff, name, getattr(row, name))
            role_change: dict[str, list[str]] = {}
            if row.roles is not None:
                old = {(r.role, r.scope) for r in staff.roles}
                new = set(row.roles)
                if old != new:
                    staff.roles = [r for r in staff.roles if (r.role, r.scope) in new] + [
                        StaffRole(role=r, scope=s) for r, s in row.roles if (r, s) not in old
                    ]
                    role_change = {
                        "added": sorted(f"{r}:{s}".rstrip(":") for r, s in new - old),
                        "removed": sorted(f"{r}:{s}".rstrip(":") for r, s in old - new),
                    }
            if not staff.active:
                staff.active = True
                changed.append("active")
            if changed or role_change:
                staff.updated_at = now
                await audit.record(
                    store, "staff.update", "staff", staff.staff_no, fields=changed, **role_change
                )
                report.updated += 1
            else:
                report.unchanged += 1
        if count % 500 == 0:
            await store.session.flush()
    await store.session.flush()
    return report
