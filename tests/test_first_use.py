"""What a new user trips over: each reply read as the person who gets it."""

from __future__ import annotations

from tests.harness import ConsoleChat


async def test_help_has_headings_and_aligned_commands(chat: ConsoleChat) -> None:
    said = await chat.say("D2002", "/help")
    lines = said.text.splitlines()
    assert "会议" in lines, "an area's name is a heading of its own"
    assert "  /meetings                   我需要参加的会议" in lines
    assert not any(line.startswith("  •     /") for line in lines), "no bullet-and-indent"
    assert not any("/meeting create" in line for line in lines)
    group = await chat.say("D2002", "/help meeting")
    assert "/meeting show ID" in group and "/meeting create" not in group, (
        "/help GROUP hides what the person may not run, as /help does"
    )
    officer = await chat.say("O4001", "/help meeting")
    assert "/meeting create" in officer
    assert (await chat.say("T1001", "/help group")).error


async def test_a_handler_of_another_department_is_told_whose_it_is(chat: ConsoleChat) -> None:
    """Not "only handlers... your role: handler", which contradicts itself."""
    from datetime import timedelta

    from storage.clock import utcnow
    from storage.models import Proposal, Staff
    from storage.store import SYSTEM, Store

    async with chat.app.database.session() as session:
        proposer = await session.scalar(
            Staff.__table__.select().with_only_columns(Staff.id).where(Staff.staff_no == "D2002")
        )
        now = utcnow()
        proposal = Proposal(
            title="人事处承办的提案",
            status="assigned",
            category="personnel",
            proposer_id=proposer,
            lead_department="人事处",
            supporting_departments=[],
            due_date=(now + timedelta(days=10)).date(),
            created_at=now,
            submitted_at=now,
            updated_at=now,
        )
        Store(session, SYSTEM).session.add(proposal)
        await session.flush()
        pid = proposal.id
    said = await chat.say("H5001", f"/reply {pid} A 已解决")
    assert said.error
    assert "这件事由人事处的承办单位联系人办理，你是后勤管理处的承办单位联系人" in said, said.text
    await chat.say("H5001", "/lang en")
    english = await chat.say("H5001", f"/reply {pid} A done")
    assert (
        "this is for the handling department contact of 人事处, and you are the handling "
        "department contact for 后勤管理处." in english
    ), english.text


async def test_multi_line_answers_on_the_console(chat: ConsoleChat) -> None:
    await chat.say("O4001", "/meeting create")
    for answer in (
        "1",
        "-",
        "多行议程的会议",
        "1",
        "2099-12-01 09:00",
        "2099-12-01 12:00",
        "报告厅",
    ):
        said = await chat.say("O4001", answer)
    assert "用 \\n 分隔" in said, "the agenda step says how to write several lines"
    await chat.say("O4001", "一、审议报告\\n二、选举")
    for answer in ("-", "-"):
        said = await chat.say("O4001", answer)
    assert "已创建" in said, said.text
    from sqlalchemy import select

    from storage.models import Meeting

    async with chat.app.database.session() as session:
        agenda = await session.scalar(
            select(Meeting.agenda).where(Meeting.title == "多行议程的会议")
        )
    assert agenda == "一、审议报告\n二、选举"


async def test_a_changed_roster_email_relinks_and_ends_the_old_link(app: object) -> None:
    """Slack vouches for an email; when the roster gives it to someone else, the account
    follows the roster, and the end of the old link is on the record."""
    from sqlalchemy import select, update

    from bot.app import App
    from storage import linking
    from storage.models import AuditEntry, Identity, Staff
    from storage.store import SYSTEM, Store

    assert isinstance(app, App)
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        first = await linking.link_by_roster(store, "slack", "U77", "email", "ZhangWei@demo.edu.cn")
        assert first is not None and first.staff_no == "T1001"
        await session.execute(
            update(Staff).where(Staff.staff_no == "T1001").values(email="zw.old@demo.edu.cn")
        )
        await session.execute(
            update(Staff).where(Staff.staff_no == "T1002").values(email="zhangwei@demo.edu.cn")
        )
    async with app.database.session() as session:
        store = Store(session, SYSTEM)
        again = await linking.link_by_roster(store, "slack", "U77", "email", "zhangwei@demo.edu.cn")
        assert again is not None and again.staff_no == "T1002"
        t1001 = await session.scalar(select(Staff.id).where(Staff.staff_no == "T1001"))
        identity = await session.scalar(select(Identity).where(Identity.platform_user_id == "U77"))
        assert identity is not None
        ended = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "identity.unlink",
                    AuditEntry.target_id == str(identity.id),
                )
            )
        )
    assert len(ended) == 1 and ended[0].detail["staff_id"] == t1001


def test_benchmarks_run_as_modules_and_as_files() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for command in (
        [sys.executable, "-m", "benchmarks.fanout", "--help"],
        [sys.executable, str(root / "benchmarks" / "fanout.py"), "--help"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", timeout=120)
        assert done.returncode == 0 and "10,000 meeting reminders" in done.stdout, done.stderr


async def test_files_on_a_proposal_before_it_is_submitted(chat: ConsoleChat) -> None:
    from bot.events import IncomingFile
    from tests.test_proposals import file

    pid = await file(chat, "D2001", "教学楼照明不足")
    photo = IncomingFile("走廊.png", "image/png", b"\x89PNG fake picture")
    tool = IncomingFile("setup.exe", "application/octet-stream", b"MZ...")
    outcome = await chat.app.dispatcher.handle(
        _with_files(chat.message("D2001", f"/proposal attach {pid}"), photo, tool)
    )
    text = "\n".join(r.plain() for r in outcome.replies)
    assert "已把「走廊.png」" in text and "提案只能附文档和图片" in text, text
    shown = await chat.say("D2001", f"/proposal show {pid}")
    assert "1. 走廊.png (17 B)" in shown and f"/proposal file {pid} 序号" in shown
    got = await chat.say("D2001", f"/proposal file {pid} 1")
    [reply] = got.replies
    assert reply.attachment is not None and reply.attachment.content == photo.content
    assert (await chat.say("T1001", f"/proposal file {pid} 1")).error, "a draft is not public"
    await chat.say("D2001", f"/proposal submit {pid}")
    late = await chat.app.dispatcher.handle(
        _with_files(chat.message("D2001", f"/proposal attach {pid}"), photo)
    )
    assert late.replies[0].error


def _with_files(message, *files):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(message, files=tuple(files))


async def test_refusals_offer_only_what_the_person_may_do(chat: ConsoleChat) -> None:
    from tests.test_proposals import file

    pid = await file(chat, "D2001", "只给本人的提示")
    stranger = await chat.say("D2002", f"/proposal rate {pid} 满意")
    assert stranger.error and "此状态下可以" not in stranger, stranger.text
    own = await chat.say("D2001", f"/proposal rate {pid} 满意")
    assert own.error and "此状态下可以" in own and "提交" in own and "答复" not in own, own.text
    wrong_word = await chat.say("D2001", f"/proposal rate {pid} 很好")
    assert "可选：满意（satisfied）、基本满意（basic）、不满意（unsatisfied）" in wrong_word
    listed = await chat.say("O4001", "/proposal list all --status 草稿")
    assert "只给本人的提示" not in listed.text or not listed.error
    assert not (await chat.say("O4001", "/proposal list all --status 承办中")).error


async def test_a_merged_proposal_says_where_it_went(chat: ConsoleChat) -> None:
    from tests.test_proposals import open_window, seconded_and_submitted

    await open_window(chat)
    target = await seconded_and_submitted(chat, "D2002", "教学楼饮水机", "D2001", "D2003")
    merged = await seconded_and_submitted(chat, "D2103", "饮水机维护", "D2101", "D2102")
    await chat.say("C3001", f"/review {merged} merge {target}")
    notice = [n for n in await chat.inbox("D2103") if "审查结果" in n.text]
    assert notice and f"已并入 #{target}《教学楼饮水机》" in notice[-1].text
    assert not notice[-1].text.rstrip("。").endswith(str(target)), "no stray number"
    gone = await chat.say("D2103", f"/proposal show {merged}")
    assert f"已并入 #{target}《教学楼饮水机》" in gone
    assert [c.command for c in gone.replies[0].choices] == [f"/proposal show {target}"]
    kept = await chat.say("D2002", f"/proposal show {target}")
    assert f"并入了 #{merged}《饮水机维护》" in kept


async def test_a_non_delegates_form_says_it_files_a_suggestion(chat: ConsoleChat) -> None:
    said = await chat.say("T1001", "/proposal new")
    assert "【意见建议 (1/5)】" in said, said.text


async def test_stats_count_suggestions_apart_and_cover_every_session(chat: ConsoleChat) -> None:
    from storage.demo import load_demo
    from storage.store import Actor, Store

    async with chat.app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")))
    current = await chat.say("T1001", "/proposal stats")
    assert "提案总数              8" in current and "意见建议（另计）      1" in current
    everything = await chat.say("T1001", "/proposal stats --all")
    assert "提案统计：全部届次" in everything
    assert [c.command for c in everything.replies[0].choices] == ["/proposal chart --all"]
    named = await chat.say("T1001", "/proposal stats --session 第八届教代会第三次会议")
    assert "提案总数              8" in named
    assert (await chat.say("T1001", "/proposal stats --session 没有这一届")).error


async def test_a_newcomers_list_in_every_area_answers(chat: ConsoleChat) -> None:
    """`/proposal list` is how lists are asked for, so `/meeting list` and the like answer too
    (each with what the plural command shows), in both languages' words."""
    for typed, expected in (
        ("/meeting list", "/meetings"),
        ("/会议 列表", "/meetings"),
        ("/activity list", "/activities"),
        ("/vote list", "/votes"),
        ("/benefit list", "/benefits"),
        ("/club list", "/clubs"),
    ):
        said = await chat.say("D2001", typed)
        plural = await chat.say("D2001", expected)
        assert not said.error and said.text == plural.text, (typed, said.text)


async def test_unknown_commands_suggest_only_what_the_person_may_run(chat: ConsoleChat) -> None:
    member = await chat.say("T1001", "/meeting edt 1")
    assert member.error and "/meeting edit" not in member, member.text
    assert "/meeting show" in member or "/meeting leave" in member, member.text
    officer = await chat.say("O4001", "/meeting edt 1")
    assert "/meeting edit" in officer, officer.text
    named_twice = await chat.say("T1001", "/langu")
    assert "/lang" in named_twice and "/language" not in named_twice, (
        "a command once, not again by its alias"
    )


async def test_a_refusal_points_to_what_the_person_likely_meant(chat: ConsoleChat) -> None:
    refused = await chat.say("T1001", "/survey list")
    assert refused.error and "仅限 工会干部或系统管理员 使用" in refused, refused.text
    assert "你可能想用：/surveys（我需要填写的问卷）" in refused, refused.text
    await chat.say("T1001", "/lang en")
    english = await chat.say("T1001", "/applications")
    assert "needs the role of union officer." in english, english.text
    assert "You may mean: /benefits mine (" in english, english.text


async def test_a_demo_proposal_shows_how_it_got_where_it_is(chat: ConsoleChat) -> None:
    """The demo's cases carry the history the workflow would have written, and a case with
    none shows no empty heading."""
    from storage.demo import load_demo
    from storage.store import Actor, Store

    async with chat.app.database.session() as session:
        await load_demo(Store(session, Actor(None, "cli", "test")))  # with the congress
    overdue = await chat.say("O4001", "/proposal show 3")
    steps = ["邀请附议", "附议答复（已附议）", "提交 → 待审查", "立案 → 已立案", "交办 → 承办中"]
    at = [overdue.text.find(step) for step in steps]
    assert -1 not in at and at == sorted(at), overdue.text
    assert "（已附议）、" in overdue, "the rules' two seconders are named"
    reopened = await chat.say("D2001", "/proposal show 4")
    assert "答复（B 正在解决或列入计划）" in reopened and "评价（不满意） → 重新办理" in reopened
    draft = await chat.say("D2002", "/proposal show 7")
    assert not draft.error and "办理记录" not in draft, draft.text


async def test_argument_errors_name_arguments_as_the_usage_line_does(chat: ConsoleChat) -> None:
    """Not the handler's internal names ("参数 grade 有误"), and a missing one said once."""
    missing = await chat.say("H5002", "/reply 3")
    assert missing.error and missing.text.startswith("缺少参数 A|B|C|D。"), missing.text
    assert "grade" not in missing.text
    wrong = await chat.say("H5002", "/reply 3 E 好")
    assert wrong.text.startswith("参数 A|B|C|D 有误：「E」不是可选值"), wrong.text
    assert "A 已解决、B 正在解决或列入计划" in wrong and "（A）" not in wrong, wrong.text
    assert "用法：/reply ID A|B|C|D TEXT" in wrong
    number = await chat.say("H5002", "/reply abc B 好")
    assert number.text.startswith("参数 ID 有误：「abc」不是数字。"), number.text
    extra = await chat.say("H5002", "/whoami extra")
    assert extra.text.startswith("多余的内容「extra」"), extra.text


async def test_submit_is_offered_once_the_seconders_are_there(chat: ConsoleChat) -> None:
    """A fresh proposal's Submit would only be refused (two seconders first): it is offered
    when it can work, and an 意见建议, which needs none, offers it at once."""
    from tests.test_proposals import open_window

    await open_window(chat)
    buttons = await _saved_draft_buttons(chat, "D2001")
    assert buttons == ["/proposal show"], buttons
    pid = int((await chat.say("D2001", "/proposal list mine")).text.split("#")[1].split(" ")[0])
    shown = await chat.say("D2001", f"/proposal show {pid}")
    assert not any("submit" in c.command for c in shown.replies[0].choices)
    await chat.say("D2001", f"/proposal invite {pid} D2002 D2003")
    for seconder in ("D2002", "D2003"):
        await chat.say(seconder, f"/proposal second {pid}")
    ready = await chat.say("D2001", f"/proposal show {pid}")
    assert [c.command for c in ready.replies[0].choices] == [f"/proposal submit {pid}"]
    assert await _saved_draft_buttons(chat, "T1001") == ["/proposal show", "/proposal submit"]


async def _saved_draft_buttons(chat: ConsoleChat, who: str) -> list[str]:
    said = await chat.say(who, "/proposal new")
    for answer in ("按钮测试", "理由", "办法", "3", "-"):
        said = await chat.say(who, answer)
    assert "草稿已保存" in said, said.text
    return [c.command.rsplit(" ", 1)[0] for c in said.replies[0].choices]
