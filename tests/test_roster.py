"""Roster import: CSV (UTF-8, GBK) and XLSX, English and Chinese headers, bad rows, re-import."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from storage.db import Database
from storage.models import AuditEntry, Staff
from tests.cli import unionbot

HEADER = (
    "staff_no,name,department,sub_union,employment_type,union_member,delegate,delegation,"
    "roles,birth_date,hire_date,email,phone"
)


def staff(url: str) -> dict[str, Staff]:
    async def go() -> dict[str, Staff]:
        database = Database(url)
        try:
            async with database.session() as session:
                return {s.staff_no: s for s in await session.scalars(select(Staff))}
        finally:
            await database.dispose()

    return asyncio.run(go())


def audit_count(url: str, action: str) -> int:
    async def go() -> int:
        database = Database(url)
        try:
            async with database.session() as session:
                return int(
                    await session.scalar(
                        select(func.count())
                        .select_from(AuditEntry)
                        .where(AuditEntry.action == action)
                    )
                    or 0
                )
        finally:
            await database.dispose()

    return asyncio.run(go())


def test_csv_with_english_headers_and_bad_rows(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(
        "\n".join(
            [
                HEADER,
                "S1,甲,教务处,机关分工会,establishment,yes,yes,第一代表团,head;committee,1980-01-02,2005-09-01,a@x.cn,1",
                ",乙,教务处,,,,,,,,,,",  # line 3: no staff_no
                "S3,丙,教务处,,establishment,maybe,no,,,,,,",  # line 4: bad yes/no
                "S4,丁,教务处,,establishment,yes,no,,,1980-13-40,,,",  # line 5: bad date
                "S5,戊,教务处,,establishment,yes,no,,wizard,,,,",  # line 6: unknown role
                "S6,己,教务处,,establishment,yes,no,,handler,,,,",  # line 7: handler without department
                "S7,庚,教务处,,establishment,yes,no,,head,,,,",  # line 8: head without delegation
                "S1,甲二,教务处,,,,,,,,,,",  # line 9: duplicate
                "S9,辛,教务处,,establishment,yes,no,,,,,not-an-email,",  # line 10: bad email
                "S10,壬,后勤管理处,机关分工会,agency,是,否,,handler:后勤管理处,1990/5/6,,,",
            ]
        ),
        encoding="utf-8",
    )
    result = unionbot(db_url, "--lang", "en", "roster", "import", str(path))
    assert result.exit_code == 1, result.output
    for line in (3, 4, 5, 6, 7, 8, 9, 10):
        assert f"Line {line}:" in result.output
    assert "Line 2:" not in result.output and "Line 11:" not in result.output
    roster = staff(db_url)
    assert set(roster) == {"S1", "S10"}
    assert roster["S1"].delegate and roster["S1"].delegation == "第一代表团"
    assert {(r.role, r.scope) for r in roster["S1"].roles} == {
        ("head", "第一代表团"),
        ("committee", ""),
    }
    assert roster["S10"].employment_type == "agency" and roster["S10"].birth_date == date(
        1990, 5, 6
    )
    assert audit_count(db_url, "staff.create") == 2


def test_chinese_headers_gbk_and_reimport(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "名册.csv"
    rows = [
        "工号,姓名,部门,分工会,用工类型,是否会员,是否代表,代表团,角色,出生日期,入职日期,邮箱,手机",
        "G1,张三,文学院,文学院分工会,事业编制,是,是,第一代表团,,1970年1月2日,,z@x.cn,139",
        "G2,李四,文学院,文学院分工会,非事业编制,否,否,,,,,,",
    ]
    path.write_bytes("\n".join(rows).encode("gbk"))
    result = unionbot(sqlite_url, "roster", "import", str(path))
    assert result.exit_code == 0, result.output
    roster = staff(sqlite_url)
    assert roster["G1"].name == "张三" and roster["G1"].birth_date == date(1970, 1, 2)
    assert roster["G2"].employment_type == "non_establishment" and not roster["G2"].union_member

    # Re-import: G1 changes department and gains a role; G2 is left out of the file.
    path.write_bytes(
        "\n".join(
            [
                rows[0],
                "G1,张三,计算机与网络工程学院,计算机学院分工会,事业编制,是,是,第一代表团,head,1970-01-02,,z@x.cn,139",
            ]
        ).encode("gbk")
    )
    result = unionbot(sqlite_url, "roster", "import", str(path))
    assert result.exit_code == 0, result.output
    roster = staff(sqlite_url)
    assert roster["G1"].department == "计算机与网络工程学院"
    assert {(r.role, r.scope) for r in roster["G1"].roles} == {("head", "第一代表团")}
    assert "G2" in roster, "re-importing never deletes anyone"
    assert audit_count(sqlite_url, "staff.update") == 1
    again = unionbot(sqlite_url, "roster", "import", str(path))
    assert "未变 1" in again.output and audit_count(sqlite_url, "staff.update") == 1


def test_xlsx_with_date_cells(sqlite_url: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(
        [
            "X1",
            "赵六",
            "人事处",
            "机关分工会",
            "establishment",
            "yes",
            "no",
            None,
            "officer:机关分工会",
            date(1985, 3, 4),
            date(2010, 9, 1),
            "x1@x.cn",
            13800000000,
        ]
    )
    sheet.append(["X2", None, "人事处"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    result = unionbot(sqlite_url, "--lang", "en", "roster", "import", str(path))
    assert "Line 3:" in result.output and "name cannot be empty" in result.output
    roster = staff(sqlite_url)
    assert roster["X1"].birth_date == date(1985, 3, 4) and roster["X1"].phone == "13800000000"
    assert {(r.role, r.scope) for r in roster["X1"].roles} == {("officer", "机关分工会")}


def test_long_file_shows_progress(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    lines = [HEADER] + [
        f"B{i},员工{i},教务处,机关分工会,establishment,yes,no,,,,,," for i in range(400)
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = unionbot(sqlite_url, "roster", "import", str(path))
    assert result.exit_code == 0
    assert "导入名册" in result.output  # the bar's label (CliRunner mixes stderr into output)
    assert "新增 400" in result.output


@pytest.mark.parametrize("content", ["", "name,department\n甲,教务处\n"])
def test_unusable_files_say_why(sqlite_url: str, tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = unionbot(sqlite_url, "--lang", "en", "roster", "import", str(path))
    assert result.exit_code == 2
    assert "empty" in result.output or "staff_no" in result.output
