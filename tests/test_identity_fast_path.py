"""The per-message identity lookup on the driver's connection gives exactly the ORM's answer."""

from __future__ import annotations

from bot.app import App
from bot.events import Sender
from bot.forms import FormState
from commands._backend import StoreBackend
from storage import identity, identity_fast_path
from storage.demo import DEMO_ROSTER
from storage.events import EventLedger
from storage.store import Actor, Store


async def test_fast_path_equals_the_orm_for_everyone(any_app: App) -> None:
    staff_nos = [row[0] for row in DEMO_ROSTER]
    async with any_app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        for n, no in enumerate(staff_nos):
            view = await identity.staff_by_no(store, no)
            assert view is not None
            await identity.ensure_identity(store, "slack", f"U{no}", view.id)
            if n % 2:  # some people on two platforms, some with a form open
                await identity.ensure_identity(store, "telegram", f"{1000 + n}", view.id)
                await identity.save_form_state(
                    store, "slack", f"U{no}", FormState(form="proposal", step=2).to_json()
                )
        await identity.set_timezone(store, view.id, "Europe/Berlin")
    ledger = EventLedger(any_app.database)
    for no in [*staff_nos, "NOBODY"]:
        async with any_app.database.session() as session:
            orm = await identity.lookup(Store(session), "slack", f"U{no}")
        fast = await identity_fast_path.identify(any_app.database, "slack", f"U{no}")
        assert fast == orm, no
        if orm is not None:
            assert fast.form_state == orm.form_state and fast.platforms == orm.platforms
        # With the duplicate check (one statement on PostgreSQL): the same person, and
        # whether the event is new, also for someone nobody linked.
        combined, first = await ledger.identify("slack", f"U{no}", f"Ev-{no}", f"m-{no}")
        assert combined == orm and first, no
        if orm is not None:
            assert combined.form_state == orm.form_state and combined.platforms == orm.platforms
        again, first = await ledger.identify("slack", f"U{no}", "Ev-new", f"m-{no}")
        assert again == orm and not first, "one id seen before is enough"
    await ledger.close()
    backend = StoreBackend(any_app.database)
    with_form = Sender("slack", f"U{staff_nos[1]}")
    async with backend.session(with_form) as services:
        identified = await backend.identify(services, with_form)
    assert identified.principal is not None and identified.form is not None


async def test_on_sqlite_the_lookup_reads_on_the_loop_and_falls_back_when_busy(app: App) -> None:
    """The inline read is what answers on SQLite; a busy file sends it the ordinary way."""
    import sqlite3

    inline = app.database.inline_reader()
    assert inline is not None
    statements: list[str] = []
    inline.set_trace_callback(statements.append)
    async with app.database.session() as session:
        store = Store(session, Actor(None, "cli", "test"))
        view = await identity.staff_by_no(store, "T1001")
        assert view is not None
        await identity.ensure_identity(store, "slack", "UINLINE", view.id)
    fast = await identity_fast_path.identify(app.database, "slack", "UINLINE")
    assert fast is not None and fast.staff_no == "T1001"
    assert len(statements) == 1 and "FROM identities" in statements[0], statements
    with __import__("pytest").raises(sqlite3.OperationalError):
        inline.execute("DELETE FROM identities")  # it cannot write

    class Busy:
        def execute(self, *_args: object) -> None:
            raise sqlite3.OperationalError("database is locked")

    app.database._inline = Busy()  # type: ignore[assignment]
    try:
        again = await identity_fast_path.identify(app.database, "slack", "UINLINE")
    finally:
        app.database._inline = inline
    assert again == fast
