"""Benefits through every adapter, as people use them: applying, two-level review, payment,
a return for evidence, a late claim, joining the union, and a hardship report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.app import App
from storage.clock import utcnow
from storage.models import AuditEntry, BenefitApplication
from tests.harness import Chat
from tests.test_console_cli import run


def days_ago(n: int) -> str:
    return (utcnow() + timedelta(hours=8) - timedelta(days=n)).date().isoformat()


async def count_applications(app: App) -> int:
    async with app.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(BenefitApplication)) or 0)


async def test_a_hospitalisation_visit_from_application_to_payment(conversation: Chat) -> None:
    opened = await conversation.say("T1001", "/apply 住院慰问")
    assert "住院证明" in opened.text and "事件日期" in opened.text
    await conversation.say("T1001", days_ago(10))
    filed = await conversation.say("T1001", "急性肠胃炎住院三天")
    assert "已提交申请 #5" in filed.text, filed.text
    assert "直接发给我，就会附到这份申请（#5）" in filed.text, "says how the evidence comes"
    first = await conversation.inbox("O4101")
    assert any("#5" in n.text and "等待你审核" in n.text for n in first)
    assert "不在你的权限内" in await conversation.say("O4102", "/application approve 5")
    assert "#5" in (await conversation.say("O4101", "/applications")).text
    passed = await conversation.say("O4101", "/application approve 5")
    assert "转下一级" in passed.text, passed.text
    told = await conversation.inbox("T1001")
    assert any("通过初审" in n.text and "500" in n.text for n in told)
    again = await conversation.say("O4101", "/application approve 5")
    assert again.error and "校工会审核" in again.text
    final = await conversation.say("O4001", "/application approve 5 600")
    assert "已批准申请 #5" in final.text and "600" in final.text
    assert "已登记" in await conversation.say("O4001", "/application paid 5 600")
    told = await conversation.inbox("T1001")
    assert any("已于" in n.text and "发放 600 元" in n.text for n in told)
    mine = await conversation.say("T1001", "/benefits mine")
    assert "#5 住院慰问" in mine.text and "已发放" in mine.text


async def test_returned_for_evidence_then_resubmitted(conversation: Chat) -> None:
    shown = await conversation.say("T1002", "/application show 3")
    assert "已退回补充材料" in shown.text and "出生医学证明" in shown.text
    assert "重新提交" in await conversation.say("T1002", "/application resubmit 3 已补充照片")
    assert any("#3" in n.text for n in await conversation.inbox("O4102"))
    done = await conversation.say("O4102", "/application approve 3")
    assert "已批准申请 #3" in done.text  # childbirth gifts have one review level


async def test_a_late_claim_is_refused_before_anything_is_saved(
    conversation: Chat, app: App
) -> None:
    before = await count_applications(app)
    await conversation.say("T1001", "/apply wedding")
    late = await conversation.say("T1001", days_ago(200))
    assert late.error and "已超过申请时限" in late.text and "180" in late.text
    assert await count_applications(app) == before


async def test_a_non_member_is_told_how_to_join_and_joins(conversation: Chat) -> None:
    benefits = await conversation.say("T1003", "/benefits")
    assert "加入工会后可享受" in benefits.text and "/join" in benefits.text
    assert "住院慰问: 慰问金" not in benefits.text
    sent = await conversation.say("T1003", "/join 希望加入工会")
    assert "#1" in sent.text
    assert any("申请加入工会" in n.text for n in await conversation.inbox("O4001"))
    approved = await conversation.say("O4001", "/join approve 1")
    assert "王芳" in approved.text and "花名册已更新" in approved.text
    assert any("欢迎加入工会" in n.text for n in await conversation.inbox("T1003"))
    after = await conversation.say("T1003", "/benefits")
    assert "住院慰问: 慰问金" in after.text
    assert "大病资助: 该项目不由工会经费支出" in after.text


async def test_a_hardship_report_is_seen_by_the_right_officer_only(
    conversation: Chat, app: App
) -> None:
    said = await conversation.say("T1001", "/hardship report 家里老人重病，开销很大")
    assert "只有工会干部能看到" in said.text
    assert any("张伟" in n.text for n in await conversation.inbox("O4101"))
    assert not any("张伟" in n.text for n in await conversation.inbox("O4102"))
    assert "张伟" in (await conversation.say("O4101", "/hardship list")).text
    assert "张伟" not in (await conversation.say("O4102", "/hardship list")).text
    assert "张伟" in (await conversation.say("O4001", "/hardship list")).text
    refused = await conversation.say("O4102", "/hardship show 3")
    assert refused.error and "开销" not in refused.text
    assert (await conversation.say("T1002", "/hardship list")).error
    async with app.database.session() as session:
        reads = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "hardship.list")
        )
    assert reads == 3


async def test_mediation_goes_to_mediators_only(conversation: Chat) -> None:
    said = await conversation.say("H5001", "/mediation request 与部门就加班费有争议")
    assert "不会告知你所在部门" in said.text
    assert any("劳动争议调解" in n.text for n in await conversation.inbox("O4001"))
    assert (await conversation.say("O4101", "/mediation list")).error
    shown = await conversation.say("O4001", "/mediation show 1")
    assert "加班费" in shown.text and "马丽" in shown.text


def test_benefits_check_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[item]]\ncode = "x"\nname_zh = "某"\nname_en = "X"\nfrequency = "weekly"\namount = -5\n',
        encoding="utf-8",
    )
    done = run(["benefits", "check", str(bad)])
    assert done.returncode == 1
    assert "item 'x', field 'frequency'" in done.stderr and "field 'amount'" in done.stderr
    good = run(["benefits", "check", "storage/benefits/default_policy.toml"])
    assert good.returncode == 0 and "hospitalisation" in good.stdout
    stopped = run(
        ["--db", f"sqlite:///{tmp_path / 'x.db'}", "demo"], env={"UNIONBOT_BENEFITS_FILE": str(bad)}
    )
    assert stopped.returncode == 2 and "UNIONBOT_BENEFITS_FILE" in stopped.stderr


async def test_the_clock_reminds_waiting_reviewers_and_hardship_reviews_once(
    any_app: App,
) -> None:
    from sqlalchemy import update

    from commands._benefits import clock
    from schedules.tick import tick
    from storage.models import HardshipRecord
    from tests.harness import ConsoleChat

    async with any_app.database.session() as session:
        await session.execute(
            update(HardshipRecord)
            .where(HardshipRecord.id == 1)
            .values(next_review=utcnow().date() - timedelta(days=1))
        )
    later = utcnow() + timedelta(days=4)  # demo applications were last touched 2 days ago
    for _ in range(2):  # twice, as two instances would: each reminder once
        done = await tick(any_app.database, any_app.settings.tz, later, clock(any_app.settings))
        assert "benefit_reminders" in done
    chat = ConsoleChat(any_app)
    cs_officer = [n.text for n in await chat.inbox("O4101")]
    assert sum("#1" in t and "已等待审核 6 天" in t for t in cs_officer) == 1, cs_officer
    lit_officer = [n.text for n in await chat.inbox("O4102")]
    assert sum("档案 #1 到了复核日期" in t for t in lit_officer) == 1, lit_officer


def test_the_yearly_ledger_export(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert run(["--db", db, "db", "upgrade"]).returncode == 0
    assert run(["--db", db, "demo"]).returncode == 0
    # The demo's wedding gift was filed 55 days ago: early in January, that is last year.
    year = (utcnow() - timedelta(days=55)).year
    target = tmp_path / "ledger.xlsx"
    done = run(["--db", db, "export", "benefits", "--year", str(year), "--out", str(target)])
    assert done.returncode == 0, done.stderr
    assert "福利申请记录" in done.stdout and "提案" not in done.stdout, done.stdout
    assert target.stat().st_mode & 0o077 == 0, "personal data: readable only by its owner"
    book = load_workbook(target)
    ledger = list(book["ledger"].iter_rows(values_only=True))
    assert ledger[0][:3] == ("id", "staff_no", "name") and len(ledger) >= 2
    totals = {(r[0], r[2]): r for r in book["totals"].iter_rows(min_row=2, values_only=True)}
    wedding = totals[("wedding", "计算机学院分工会")]
    assert wedding[4] == 1 and wedding[5] == 300
    csv_out = tmp_path / "ledger.csv"
    done = run(
        [
            "--db",
            db,
            "export",
            "benefits",
            "--year",
            str(year),
            "--format",
            "csv",
            "--out",
            str(csv_out),
        ]
    )
    assert done.returncode == 0 and "结婚慰问" in csv_out.read_text(encoding="utf-8-sig")


async def test_exams_schedule_reminders_and_a_batch_change(conversation: Chat) -> None:
    mine = await conversation.say("T1001", "/exam")
    assert "批次 B" in mine.text and "/exam change" in mine.text
    missed = await conversation.say("T1002", "/exam")
    assert "未参加，视为放弃" in missed.text and "/exam change" not in missed.text
    nowhere = await conversation.say("T1001", "/exam change Z 那天有课")
    assert "没有批次「Z」。可以改到：A " in nowhere.text and "校医院体检中心" in nowhere.text
    same = await conversation.say("T1001", "/exam change B 那天有课")
    assert "你已经在批次「B」了。可以改到：A " in same.text, same.text
    asked = await conversation.say("T1001", "/exam change A 那天有课")
    assert "已提交给校工会" in asked.text
    assert any("那天有课" in n.text for n in await conversation.inbox("O4001"))
    assert (await conversation.say("O4101", "/exam approve T1001")).error
    done = await conversation.say("O4001", "/exam approve T1001")
    assert "校医院体检中心" in done.text
    told = await conversation.inbox("T1001")
    assert any("你的体检已改到" in n.text and "校医院体检中心" in n.text for n in told)
    assert "批次 A" in (await conversation.say("T1001", "/exam")).text


async def test_exam_reminders_a_week_and_a_day_before(any_app: App) -> None:
    from commands._benefits import clock
    from schedules.tick import tick
    from tests.harness import ConsoleChat

    chat = ConsoleChat(any_app)
    # Demo batch A is 10 days away: at 3 days later it is a week away, at 9 a day away.
    for days_later, expect in ((3, "还有 7 天"), (9, "还有 1 天")):
        moment = utcnow() + timedelta(days=days_later)
        for _ in range(2):
            await tick(any_app.database, any_app.settings.tz, moment, clock(any_app.settings))
        texts = [n.text for n in await chat.inbox("C3002")]
        assert sum(expect in t for t in texts) == 1, texts


def test_importing_the_exam_schedule_reports_bad_rows(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'exams.db'}"
    assert run(["--db", db, "db", "upgrade"]).returncode == 0
    assert run(["--db", db, "demo"]).returncode == 0
    table = tmp_path / "schedule.csv"
    table.write_text(
        "工号,日期,地点,批次\nT1001,2027年5月12日,校医院,C\nNOPE,2027-05-12,校医院,C\n"
        "T1002,someday,校医院,C\n",
        encoding="utf-8",
    )
    done = run(["--db", db, "benefits", "exams", "import", str(table)])
    assert done.returncode == 1, done.stderr
    assert "新增 1" in done.stdout
    assert "第 3 行" in done.stderr and "NOPE" in done.stderr and "第 4 行" in done.stderr


async def test_an_officer_registers_a_file_reviewed_yearly_by_default(conversation: Chat) -> None:
    saved = await conversation.say(
        "O4101", "/hardship add T1001 意外致困 --household 3 --income 1500 --causes 车祸"
    )
    assert "已登记 T1001" in saved.text, saved.text
    shown = await conversation.say("O4101", "/hardship show 3")
    next_year = (utcnow() + timedelta(hours=8) + timedelta(days=365)).date().isoformat()
    assert "意外致困" in shown.text and next_year in shown.text
    refused = await conversation.say("O4101", "/hardship add T1002 低保")
    assert refused.error and "不属于你负责的分工会" in refused.text
