"""The proposal chart: `/proposal stats` drawn, for `/proposal chart` and weekly digests.

Its numbers are `storage.proposals.statistics.stats`, the same figures `/proposal stats`
prints: statuses per lead department, and per month the share of replies on time and
of ratings satisfied. The deliverer asks for it by name when it sends a weekly digest;
one drawing per language, zone and day serves every officer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, tzinfo

from bot.i18n import Catalog
from bot.render import chart
from bot.replies import Attachment
from storage.clock import utcnow
from storage.db import Database
from storage.models import CongressSession
from storage.proposals import congress, statistics
from storage.proposals.statistics import Stats
from storage.store import SYSTEM, Store

MakeAttachment = Callable[[str, tzinfo], Awaitable[Attachment | None]]


def panels(figures: Stats, catalog: Catalog, lang: str) -> list[chart.Bars]:
    """What the chart shows, from the figures; empty when there is nothing to draw."""
    found: list[chart.Bars] = []
    departments = sorted(figures.by_department_status)
    if departments:
        statuses = sorted({s for per in figures.by_department_status.values() for s in per})
        found.append(
            chart.Bars(
                catalog.get(lang, "proposals.chart.by_department"),
                departments,
                [
                    (
                        catalog.get(lang, f"proposals.status.{status}"),
                        [
                            float(figures.by_department_status[d].get(status, 0))
                            for d in departments
                        ],
                    )
                    for status in statuses
                ],
                stacked=True,
            )
        )
    months = list(figures.by_month)
    if months:
        found.append(
            chart.Bars(
                catalog.get(lang, "proposals.chart.by_month"),
                months,
                [
                    (
                        catalog.get(lang, "proposals.stats.on_time"),
                        [figures.by_month[m].on_time_rate for m in months],
                    ),
                    (
                        catalog.get(lang, "proposals.stats.satisfaction"),
                        [figures.by_month[m].satisfaction_rate for m in months],
                    ),
                ],
                percent=True,
            )
        )
    return found


async def proposal_chart(
    store: Store,
    catalog: Catalog,
    lang: str,
    tz: tzinfo,
    today: date,
    session: CongressSession | None,
) -> Attachment | None:
    """The chart of a session (None: every session) as a PNG, or None with no figures."""
    figures = await statistics.stats(store, session.id if session else None, today, tz)
    drawn = panels(figures, catalog, lang)
    if not drawn:
        return None
    name = session.name if session else catalog.get(lang, "proposals.all")
    fig = chart.figure(catalog.get(lang, "proposals.chart.title", session=name), drawn)
    # Drawing takes a fraction of a second: off the event loop, which serves chat meanwhile.
    content = await asyncio.to_thread(chart.png, fig)
    return Attachment(f"proposals-{today.isoformat()}.png", content, "image/png", inline=True)


def maker(database: Database, catalog: Catalog) -> MakeAttachment:
    """The weekly digests' chart, drawn once per language, zone and day."""
    drawn: dict[tuple[str, str, date], Attachment | None] = {}

    async def make(lang: str, tz: tzinfo) -> Attachment | None:
        today = utcnow().astimezone(tz).date()
        key = (lang, str(tz), today)
        if key not in drawn:
            async with database.session() as session:
                store = Store(session, SYSTEM)
                current = await congress.current_session(store)
                for old in [k for k in drawn if k[2] != today]:
                    del drawn[old]  # only today's are worth keeping
                drawn[key] = await proposal_chart(store, catalog, lang, tz, today, current)
        return drawn[key]

    return make
