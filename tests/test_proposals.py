"""The whole proposal cycle through the conversation harness, with several people, on both databases."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.app import App
from schedules.tick import tick
from storage.clock import utcnow
from storage.models import AuditEntry, Proposal
from tests.cli import unionbot_async
from tests.harness import ConsoleChat

# The union's today: due dates count in its zone, which is a day ahead of UTC's every evening.
TODAY = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
SESSION = "第五届第三次"


async def open_window(
    chat: ConsoleChat, start: date | None = None, end: date | None = None
) -> None:
    start = start or TODAY - timedelta(days=7)
    end = end or TODAY + timedelta(days=14)
    said = await chat.say("O4001", f'/session open "{SESSION}" --from {start} --to {end}')
    assert not said.error, said.text


async def file(
    chat: ConsoleChat, who: str, title: str, category: str = "3", department: str = "后勤管理处"
) -> int:
    said = await chat.say(who, "/proposal new")
    assert "(1/5)" in said, said.text
    for answer in (title, "理由：" + title, "办法：" + title, category):
        said = await chat.say(who, answer)
        assert not said.error, said.text
    said = await chat.say(who, department)
    assert "草稿已保存" in said, said.text
    return int(said.text.split("#")[1].split("。")[0])


async def seconded_and_submitted(chat: ConsoleChat, who: str, title: str, *seconders: str) -> int:
    pid = await file(chat, who, title)
    await chat.say(who, f"/proposal invite {pid} {' '.join(seconders)}")
    for seconder in seconders:
        assert "你已附议" in await chat.say(seconder, f"/proposal second {pid}")
    said = await chat.say(who, f"/proposal submit {pid}")
    assert "已提交" in said, said.text
    return pid


async def set_column(app: App, pid: int, **values: object) -> None:
    async with app.database.session() as session:
        await session.execute(update(Proposal).where(Proposal.id == pid).values(**values))


async def test_the_whole_cycle(any_chat: ConsoleChat, tmp_path: Path) -> None:
    chat = any_chat
    await open_window(chat)

    # Filing and seconding.
    pid = await file(chat, "D2001", "食堂饭菜价格偏高")
    said = await chat.say("D2001", f"/proposal invite {pid} D2002 D2003 T1001")
    assert "刘洋" in said and "T1001：不是教代会代表" in said
    invite = (await chat.inbox("D2002"))[0]
    assert "邀请你附议" in invite.text and invite.footer and "邀请你附议" in invite.footer
    assert [c.command for c in invite.choices] == [
        f"/proposal second {pid}",
        f"/proposal decline {pid}",
    ]
    missing = await chat.say("D2001", f"/proposal submit {pid}")
    assert missing.error and "还差 2 位" in missing
    await chat.say("D2002", f"/proposal second {pid}")
    assert "还差 1 位" in await chat.say("D2001", f"/proposal submit {pid}")
    await chat.say("D2003", f"/proposal second {pid}")
    await chat.say("D2003", f"/proposal unsecond {pid}")  # changed their mind
    assert "还差 1 位" in await chat.say("D2001", f"/proposal submit {pid}")
    await chat.say("D2003", f"/proposal second {pid}")
    assert "已提交" in await chat.say("D2001", f"/proposal submit {pid}")
    assert any("待审查" in n.text for n in await chat.inbox("C3001"))
    assert (await chat.say("D2003", f"/proposal unsecond {pid}")).error

    # Review: a staff member cannot; the committee accepts with a case number.
    denied = await chat.say("T1001", f"/review {pid} accept")
    assert denied.error and "提案工作委员会委员" in denied
    accepted = await chat.say("C3001", f"/review {pid} accept")
    assert f"{TODAY.year}-001" in accepted
    assert any("立案" in n.text for n in await chat.inbox("D2001"))

    # Assignment: handlers of the lead and supporting departments are told at once.
    due = TODAY + timedelta(days=20)
    said = await chat.say("O4001", f"/assign {pid} 后勤管理处 --with 教务处 --due {due}")
    assert "已交办" in said and not said.error, said.text
    assert any("已交办" in n.text for n in await chat.inbox("H5001"))
    assert any("已交办" in n.text for n in await chat.inbox("H5002"))
    assert (await chat.say("D2001", f"/proposal withdraw {pid}")).error  # too late to withdraw

    # Replies: only the lead department's handler.
    wrong = await chat.say("H5003", f"/reply {pid} A 已处理")
    assert wrong.error and "承办单位联系人" in wrong
    supporting = await chat.say("H5002", f"/reply {pid} A 已处理")
    assert supporting.error
    assert "已答复" in await chat.say("H5001", f"/reply {pid} B 已列入明年计划，先开设平价窗口")
    ask = [n for n in await chat.inbox("D2001") if "请在" in n.text]
    assert ask and [c.command for c in ask[0].choices][-1] == f"/proposal rate {pid} unsatisfied"
    assert any("已由后勤管理处答复" in n.text for n in await chat.inbox("D2002"))

    # Unsatisfied sends it back; the department and the committee are told.
    assert (await chat.say("D2001", f"/proposal rate {pid} 不满意")).error  # needs a comment
    assert "退回" in await chat.say("D2001", f"/proposal rate {pid} 不满意 价格仍未公示")
    sent_back = [n for n in await chat.inbox("H5001") if "价格仍未公示" in n.text]
    redo = TODAY + timedelta(days=15)
    assert sent_back and f"请在 {redo.isoformat()}" in sent_back[0].text, "with a new due date"
    assert any("价格仍未公示" in n.text for n in await chat.inbox("C3002"))
    shown = await chat.say("D2001", f"/proposal show {pid}")
    assert "重新办理" in shown and "评价（不满意）" in shown, "the history says which rating"
    overdue = await chat.say("C3001", "/proposal overdue")
    assert "食堂饭菜价格偏高" not in overdue, "sent back: overdue only after its new due date"
    assert "没有超期" in await chat.say("C3001", f"/proposal urge {pid}")
    late = await chat.say("O4001", f"/proposal due {pid} {TODAY - timedelta(days=2)}")
    assert "答复期限已改为" in late and "从现在起算作超期" in late
    assert "食堂饭菜价格偏高" in await chat.say("C3001", "/proposal overdue")
    assert "已向后勤管理处督办" in await chat.say("C3001", f"/proposal urge {pid}")
    again = await chat.say("O4001", f"/proposal urge {pid}")
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert again.error and f"{tomorrow} 起才能再次督办" in again, "one urge a day"
    assert any("督办" in n.text for n in await chat.inbox("H5001"))
    await chat.say("H5001", f"/reply {pid} A 已公示成本并开设平价窗口")
    assert "已办结" in await chat.say("D2001", f"/proposal rate {pid} 满意")
    rating = await chat.say("D2001", f"/proposal rate {pid} 满意")
    assert rating.error and "已办结" in rating  # a closed proposal cannot be rated again

    shown = await chat.say("T1001", f"/proposal show {pid}")
    for step in ("立案", "交办", "答复", "评价（不满意）", "督办"):
        assert step in shown, step

    # Review each other way.
    rejected = await seconded_and_submitted(chat, "D2101", "个人职称评审问题", "D2102", "D2103")
    assert (await chat.say("C3001", f"/review {rejected} reject")).error
    assert "不予立案" in await chat.say("C3001", f"/review {rejected} reject 属于个人事项")
    converted = await seconded_and_submitted(chat, "D2102", "校园绿化", "D2101", "D2103")
    assert "意见建议" in await chat.say("C3002", f"/review {converted} convert")
    target = await seconded_and_submitted(chat, "D2002", "教学楼饮水机", "D2001", "D2003")
    merged = await seconded_and_submitted(chat, "D2103", "饮水机维护", "D2101", "D2102")
    assert "已并入" in await chat.say("C3001", f"/review {merged} merge {target}")
    assert "吴刚" in await chat.say("D2002", f"/proposal show {target}")
    assert (await chat.say("C3001", f"/review {rejected} accept")).error  # no longer submitted
    assert (await chat.say("O4001", f"/assign {rejected} 后勤管理处")).error

    # Overdue by date, then urged; a rating that never comes closes it.
    await chat.say("C3001", f"/review {target} accept")
    await chat.say("O4001", f"/assign {target} 教务处 --due {TODAY + timedelta(days=3)}")
    assert "没有超期" in await chat.say("C3001", f"/proposal urge {target}")
    await set_column(chat.app, target, due_date=TODAY - timedelta(days=1))
    assert "教学楼饮水机" in await chat.say("O4001", "/proposal list overdue")
    assert (await chat.say("T1001", "/proposal overdue")).error
    await chat.say("O4001", f"/proposal urge {target}")
    await chat.say("H5002", f"/reply {target} C 明年更换")
    await set_column(chat.app, target, rating_due=TODAY - timedelta(days=1))
    done = await tick(chat.app.database, chat.app.settings.tz)
    assert done["closed_unrated"] == 1
    assert "已办结" in await chat.say("D2002", f"/proposal show {target}")

    # Figures and the 提案汇编.
    stats = await chat.say("O4001", "/proposal stats")
    assert "立案率" in stats and "40.0%" in stats, stats.text  # 2 accepted of 5 reviewed
    out = tmp_path / "huibian.xlsx"
    result = await unionbot_async(
        chat.app.settings.database_url,
        "export",
        "proposals",
        "--session",
        SESSION,
        "--format",
        "xlsx",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["proposals"]
    header = [cell.value for cell in sheet[1]]
    assert header[:7] == ["id", "case_no", "session", "title", "kind", "category", "status"]
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert rows[pid]["status"] == "closed" and rows[pid]["satisfaction"] == "satisfied"
    assert rows[pid]["proposers"] == "陈静" and rows[pid]["seconders"] == "刘洋; 赵敏"
    assert rows[rejected]["status"] == "rejected" and rows[merged]["status"] == "merged"
    async with chat.app.database.session() as session:
        changes = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.target_type == "proposal")
        )
    assert changes and changes > 20


async def test_outside_the_window_it_becomes_a_suggestion(chat: ConsoleChat) -> None:
    await open_window(chat, TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    assert "意见建议" in await chat.say("D2001", "/proposal new")
    await chat.say("D2001", "取消")
    intro = await chat.say("T1001", "/proposal new")
    assert "不是教代会代表" in intro
    await chat.say("T1001", "取消")
    pid = await file(chat, "T1002", "图书馆开放时间")
    assert (await chat.say("T1002", f"/proposal invite {pid} D2001")).error
    assert "已提交" in await chat.say("T1002", f"/proposal submit {pid}")


async def test_drafts_are_private_and_withdrawn_ones_count_for_nothing(chat: ConsoleChat) -> None:
    await open_window(chat)
    pid = await file(chat, "D2001", "实验室安全培训")
    assert (await chat.say("D2002", f"/proposal show {pid}")).error, "drafts of others are private"
    assert (await chat.say("C3001", f"/proposal show {pid}")).error
    assert "实验室安全培训" in await chat.say("D2001", "/proposal list mine")
    assert "实验室安全培训" not in await chat.say("T1001", "/proposal list")
    await chat.say("D2001", f"/proposal invite {pid} D2002 D2003")
    assert "实验室安全培训" in await chat.say("D2002", f"/proposal show {pid}")
    assert "已撤回" in await chat.say("D2001", f"/proposal withdraw {pid}")
    refused = await chat.say("D2002", f"/proposal second {pid}")
    assert refused.error and "已撤回" in refused, "a withdrawn proposal accepts no seconding"
    stats = await chat.say("O4001", "/proposal stats")
    assert re.search(r"提案总数\s+0\n", stats.text), stats.text
    edit = await file(chat, "D2002", "草稿可改")
    await chat.say("D2002", f"/proposal edit {edit}")
    said = await chat.say("D2002", ".")
    assert "(2/5)" in said
    for answer in (".", ".", "."):
        await chat.say("D2002", answer)
    assert "已修改" in await chat.say("D2002", "-")
    assert "已删除" in await chat.say("D2002", f"/proposal delete {edit}")


async def test_search_finds_chinese_substrings_and_respects_visibility(chat: ConsoleChat) -> None:
    await open_window(chat)
    pid = await seconded_and_submitted(
        chat, "D2001", "关于改善青年教师周转房条件的建议", "D2002", "D2003"
    )
    await chat.say("C3001", f"/review {pid} accept")
    assert "周转房" in await chat.say("T1001", "/proposal search 周转")
    assert "周转房" in await chat.say("T1001", "/提案 搜索 青年 条件")
    assert "周转房" not in await chat.say("T1001", "/proposal search 食堂")
    draft = await file(chat, "D2101", "秘密草稿周转")
    assert "秘密草稿" not in await chat.say("T1001", "/proposal search 周转")
    assert f"#{draft}" in await chat.say("D2101", "/proposal search 秘密")
    assert "没有符合" in await chat.say("T1001", "/proposal search %")


async def test_export_keeps_formulas_as_text(chat: ConsoleChat, tmp_path: Path) -> None:
    await open_window(chat)
    pid = await file(chat, "D2001", '=HYPERLINK("http://x","点我")')
    await chat.say("D2001", f"/proposal invite {pid} D2002 D2003")
    for who in ("D2002", "D2003"):
        await chat.say(who, f"/proposal second {pid}")
    await chat.say("D2001", f"/proposal submit {pid}")
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"out.{fmt}"
        result = await unionbot_async(
            chat.app.settings.database_url,
            "export",
            "proposals",
            "--session",
            SESSION,
            "--format",
            fmt,
            "--out",
            str(out),
        )
        assert result.exit_code == 0, result.output
        if fmt == "xlsx":
            book = load_workbook(out)
            cell = book["proposals"].cell(row=2, column=4)
            # Exactly as typed, and a string cell: Excel shows it and never evaluates it.
            assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","点我")'
            assert book["stats"].cell(row=2, column=1).value == "total"
        else:
            assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")
    missing = await unionbot_async(
        chat.app.settings.database_url, "export", "proposals", "--session", "nope"
    )
    assert missing.exit_code != 0 and "nope" in missing.output


async def test_joint_filing_by_a_delegation(chat: ConsoleChat) -> None:
    await open_window(chat)
    pid = await file(chat, "D2001", "代表团联名：改善停车")
    assert (await chat.say("D2002", f"/proposal joint {pid}")).error  # not a head
    said = await chat.say("D2001", f"/proposal joint {pid}")
    assert "第一代表团" in said, said.text
    assert "已提交" in await chat.say("D2001", f"/proposal submit {pid}")
    shown = await chat.say("C3001", f"/proposal show {pid}")
    assert "刘洋" in shown and "赵敏" in shown


async def test_each_reader_sees_the_grade_in_their_own_language(chat: ConsoleChat) -> None:
    """The handler writes in Chinese; a proposer who reads English gets the grade in English."""
    await chat.say("O4001", '/session open "第五届第三次" --from 2026-01-01 --to 2099-12-31')
    for line in ("/proposal new", "食堂", "理由", "办法", "3", "-"):
        await chat.say("D2001", line)
    await chat.say("D2001", "/proposal invite 1 D2002 D2003")
    await chat.say("D2002", "/proposal second 1")
    await chat.say("D2003", "/proposal second 1")
    await chat.say("D2001", "/proposal submit 1")
    await chat.say("C3001", "/review 1 accept")
    await chat.say("O4001", "/assign 1 后勤管理处 --due 2099-01-01")
    await chat.say("D2001", "/lang en")
    await chat.inbox("D2001")
    await chat.say("H5001", "/reply 1 B 已列入明年计划")
    told = [n.text for n in await chat.inbox("D2001")]
    assert any("B being solved or planned" in t for t in told), told
    assert not any("正在解决" in t for t in told)
