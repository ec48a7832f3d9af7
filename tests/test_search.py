"""Proposal search through the index (issue 16): SQLite's FTS5 trigram table and PostgreSQL's
pg_trgm indexes find the same proposals as a plain case-insensitive substring match would, for
long words and short, after edits and deletions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select, text, update

from bot.app import App
from storage.clock import utcnow
from storage.models import Proposal, Staff
from storage.proposals import queries
from storage.store import Actor, Store

TEXTS = {
    "食堂": ("关于改善第二食堂饭菜质量的提案", "饭菜价格偏高", "引入竞争"),
    "停车": ("关于校园停车难的建议", "车位不足", "建设立体停车库，ABC 方案"),
    "百分号": ("关于 100% 覆盖体检的提案", "体检", 'say "yes" to 体检'),
    "英文": ("Parking at the North Gate", "Too few spaces", "Build more"),
}


async def _seed(app: App) -> dict[str, int]:
    now = utcnow()
    async with app.database.session() as session:
        proposer = await session.scalar(select(Staff.id).where(Staff.staff_no == "D2001"))
        made = {}
        for key, (title, reasons, measures) in TEXTS.items():
            proposal = Proposal(
                status="accepted",
                title=title,
                reasons=reasons,
                measures=measures,
                case_no=f"2026-{len(made) + 900:03d}",
                category="welfare",
                proposer_id=proposer,
                supporting_departments=[],
                created_at=now,
                updated_at=now,
            )
            session.add(proposal)
            await session.flush()
            made[key] = proposal.id
        return made


async def _found(app: App, *words: str) -> set[int]:
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        viewer = queries.Viewer(staff_id=1, overseer=True)
        found = await queries.page_for(
            store, viewer, today=date(2026, 12, 1), words=list(words), size=100
        )
        return {row.id for row in found.rows}


async def test_search_finds_the_same_on_both_databases(any_app: App) -> None:
    made = await _seed(any_app)
    assert await _found(any_app, "第二食堂") == {made["食堂"]}  # long: through the index
    assert await _found(any_app, "食堂") == {made["食堂"]}  # two characters: through the bigrams
    assert await _found(any_app, "饭菜") == {made["食堂"]}  # in the reasons
    assert await _found(any_app, "ab") == {made["停车"]}  # ASCII bigrams ignore case too
    assert await _found(any_app, "案饭") == set(), "no bigram spans two columns"
    assert await _found(any_app, "食") == {made["食堂"]}  # one character: row by row
    assert await _found(any_app, "停车库") == {made["停车"]}  # in the measures
    assert await _found(any_app, "abc") == {made["停车"]}  # case ignored
    assert await _found(any_app, "PARKING", "north") == {made["英文"]}
    assert await _found(any_app, "2026-901") == {made["停车"]}  # the case number
    assert await _found(any_app, "100%") == {made["百分号"]}  # % is a character, not a wildcard
    assert await _found(any_app, "0%覆") == set()
    assert await _found(any_app, '"yes"') == {made["百分号"]}  # quotes are characters too
    assert await _found(any_app, "体检", "食堂") == set()  # every word must occur
    assert await _found(any_app, "不存在的词") == set()


async def test_the_index_follows_edits_and_deletions(any_app: App) -> None:
    made = await _seed(any_app)
    async with any_app.database.session() as session:
        await session.execute(
            update(Proposal).where(Proposal.id == made["食堂"]).values(title="关于教工餐厅的提案")
        )
        await session.execute(delete(Proposal).where(Proposal.id == made["停车"]))
    assert await _found(any_app, "第二食堂") == set()
    assert await _found(any_app, "教工餐厅") == {made["食堂"]}
    assert await _found(any_app, "饭菜价格") == {made["食堂"]}, "the other columns stay indexed"
    assert await _found(any_app, "餐厅") == {made["食堂"]}, "the bigrams follow the edit"
    assert await _found(any_app, "食堂") == set()
    assert await _found(any_app, "停车库") == set()
    assert await _found(any_app, "车位") == set(), "and the deletion"


async def test_a_long_word_is_looked_up_in_the_index_not_row_by_row(any_app: App) -> None:
    await _seed(any_app)
    async with any_app.database.session() as session:
        if any_app.database.sqlite:
            plan = " ".join(
                str(row[-1])
                for row in await session.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT rowid FROM proposals_fts "
                        "WHERE proposals_fts MATCH '\"第二食堂\"'"
                    )
                )
            )
            assert "VIRTUAL TABLE INDEX" in plan, plan
        else:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(
                row[0]
                for row in await session.execute(
                    text("EXPLAIN SELECT id FROM proposals WHERE title ILIKE '%第二食堂%'")
                )
            )
            assert "ix_proposals_title_trgm" in plan, plan


async def test_a_two_character_word_is_looked_up_in_the_bigram_index(any_app: App) -> None:
    await _seed(any_app)
    async with any_app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        viewer = queries.Viewer(staff_id=1, overseer=True)
        condition, fts = queries._listed(
            viewer,
            scope=queries.Scope.ALL,
            today=date(2026, 12, 1),
            status=None,
            category=None,
            words=["食堂"],
            sqlite=any_app.database.sqlite,
        )
        query, newest_first = queries._reading(select(Proposal.id), condition, fts)
        query = query.order_by(newest_first).limit(50)
        if not any_app.database.sqlite:
            # Written into the statement: a prepared statement's generic plan cannot see a
            # bound array's grams and read every row (843 ms at 10,000 in benchmarks/queries).
            assert "ARRAY['食堂']::text[]" in str(query.compile(dialect=session.bind.dialect))
        compiled = query.compile(
            dialect=session.bind.dialect, compile_kwargs={"literal_binds": True}
        )
        if not any_app.database.sqlite:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(
            str(row[-1])
            for row in await session.execute(
                text(f"EXPLAIN {'QUERY PLAN ' if any_app.database.sqlite else ''}{compiled}")
            )
        )
        if any_app.database.sqlite:
            # The FTS5 table drives, newest first: nothing gathered and sorted before the
            # page (a common word at 100,000 gathered 12,500 ids for 50).
            assert plan.startswith("SCAN proposals_grams VIRTUAL TABLE"), plan
            assert "TEMP B-TREE" not in plan, plan
        else:
            assert "ix_proposals_search_bigrams" in plan, plan
        assert len((await store.session.execute(query)).all()) == 1


@pytest.mark.parametrize(
    "sample",
    [
        "关于改善第二食堂, ABC 方案 Parking 100%",
        "",
        "Ａ全角ｂ",
        "ÉCOLE école İstanbul Kelvin \u212a",
        "𠀀𠀁 中文\n换行",
    ],
)
async def test_the_bigrams_are_the_same_in_python_sqlite_and_postgresql(
    any_app: App, sample: str
) -> None:
    from storage.grams import bigrams

    async with any_app.database.session() as session:
        found = await session.scalar(text("SELECT unionbot_bigrams(:t)"), {"t": sample})
    if any_app.database.sqlite:
        found = found.split() if found else []
    assert list(found) == bigrams(sample)


async def _many(app: App, count: int, title: str) -> None:
    now = utcnow()
    async with app.database.session() as session:
        proposer = await session.scalar(select(Staff.id).where(Staff.staff_no == "D2001"))
        session.add_all(
            Proposal(
                status="accepted",
                title=f"{title}{n}",
                reasons="",
                measures="",
                category="welfare",
                proposer_id=proposer,
                supporting_departments=[],
                created_at=now,
                updated_at=now,
            )
            for n in range(count)
        )


async def test_a_long_list_says_how_many_and_offers_the_next_page(app: App) -> None:
    from tests.harness import ConsoleChat

    chat = ConsoleChat(app)
    await _many(app, 60, "关于分页测试的提案")
    first = await chat.say("T1001", "/proposal search 分页测试")
    assert not first.error and len(first.replies[0].items) == 50
    # A search reads one past the page instead of counting (a common word has thousands).
    assert "第 1–50 条，共 50 多条（第 1 页）" in first, first.text
    assert "下一页：/proposal search 分页测试 --page 2" in first
    assert [c.command for c in first.replies[0].choices] == ["/proposal search 分页测试 --page 2"]
    second = await chat.say("T1001", first.replies[0].choices[0].command)
    assert len(second.replies[0].items) == 10 and "第 51–60 条，共 60 条（第 2/2 页）" in second
    assert "下一页" not in second and not second.replies[0].choices
    assert "关于分页测试的提案0" in second, "the oldest come last"
    beyond = await chat.say("T1001", "/proposal search 分页测试 --page 5")
    assert beyond.error and "没有第 5 页：共 2 页" in beyond
    await chat.say("T1001", "/lang en")
    english = await chat.say("T1001", "/proposal list --page=1")
    assert "Showing 1-50 of" in english and "Next page: /proposal list --page 2" in english
    bad = await chat.say("T1001", "/proposal list --page 0")
    assert bad.error and "--page" in bad.text, bad.text


async def test_statistics_and_the_export_bind_no_parameter_per_proposal(any_app: App) -> None:
    """PostgreSQL takes at most 65,535 parameters a statement: a university's whole archive
    must not be passed as a list of ids."""
    from zoneinfo import ZoneInfo

    from sqlalchemy import event

    from storage.models import CongressSession
    from storage.proposals import export, statistics

    await _many(any_app, 300, "关于统计测试的提案")
    most = 0

    def bound(_conn: object, _cursor: object, _sql: str, params: object, *_rest: object) -> None:
        nonlocal most
        size = len(params) if isinstance(params, dict | list | tuple) else 0
        most = max(most, size)

    engine = any_app.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", bound)
    try:
        async with any_app.database.session() as session:
            store = Store(session, Actor(None, "cli", "test"))
            tz = ZoneInfo("Asia/Shanghai")
            figures = await statistics.stats(store, None, date(2026, 12, 1), tz)
            everything = CongressSession(
                id=None, name="all", opens_on=date(2026, 1, 1), closes_on=date(2026, 12, 31)
            )
            rows = await export.rows(store, everything, date(2026, 12, 1), tz)
    finally:
        event.remove(engine, "before_cursor_execute", bound)
    assert figures.total >= 300 and len(rows) >= 300
    assert most < 50, f"a statement bound {most} parameters"


async def test_a_very_long_list_counts_a_few_pages_ahead_and_says_more_than(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.harness import ConsoleChat

    monkeypatch.setattr(queries, "COUNT_AHEAD", 5)
    chat = ConsoleChat(app)
    await _many(app, 60, "关于计数测试的提案")
    first = await chat.say("T1001", "/proposal list all")
    assert "第 1–50 条，共 55 多条（第 1 页）" in first, first.text
    assert "下一页：/proposal list all --page 2" in first
    last = await chat.say("T1001", "/proposal search 计数测试 --page 2")
    assert "第 51–60 条，共 60 条（第 2/2 页）" in last and "下一页" not in last
