"""Group chats registered as a sub-union's or a delegation's group, for their announcements."""

from __future__ import annotations

from sqlalchemy import delete, select

from storage import audit
from storage.clock import utcnow
from storage.models.platform import ChatGroup
from storage.store import Store

KINDS = ("sub_union", "delegation")


async def register(store: Store, platform: str, chat_id: str, kind: str, scope: str) -> ChatGroup:
    group = await store.session.scalar(
        select(ChatGroup).where(ChatGroup.platform == platform, ChatGroup.chat_id == chat_id)
    )
    if group is None:
        group = ChatGroup(
            platform=platform,
            chat_id=chat_id,
            kind=kind,
            scope=scope,
            registered_by=store.actor.staff_id,
            registered_at=utcnow(),
        )
        store.session.add(group)
    else:
        group.kind, group.scope = kind, scope
        group.registered_by, group.registered_at = store.actor.staff_id, utcnow()
    await store.session.flush()
    await audit.record(
        store, "group.register", "chat_group", f"{platform}:{chat_id}", kind=kind, scope=scope
    )
    return group


async def unregister(store: Store, platform: str, chat_id: str) -> bool:
    result = await store.session.execute(
        delete(ChatGroup).where(ChatGroup.platform == platform, ChatGroup.chat_id == chat_id)
    )
    await audit.record(store, "group.unregister", "chat_group", f"{platform}:{chat_id}")
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def groups_for(store: Store, kind: str, scope: str) -> list[ChatGroup]:
    return list(
        await store.session.scalars(
            select(ChatGroup)
            .where(ChatGroup.kind == kind, ChatGroup.scope == scope)
            .order_by(ChatGroup.id)
        )
    )


async def all_groups(store: Store) -> list[ChatGroup]:
    return list(await store.session.scalars(select(ChatGroup).order_by(ChatGroup.id)))
