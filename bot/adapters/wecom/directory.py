"""The members a WeCom app may reach, read through the contacts API with as few calls as
the API allows. With the contacts-sync secret (`WECOM_CONTACTS_SECRET`, which is what
WeCom requires for it), the member id list in pages of 10,000 (`user/list_id`, with its
cursor); with the app's own secret, each visible department's members (`user/simplelist`,
one call per department). Where the mobile or email links members, each department's
member details (`user/list`): since June 2022 WeCom gives a self-built app its members'
mobile and email only where the admin allows it, and when none comes back the listing
says so, and what to grant, rather than link no one quietly.

The call rate (45009) is waited out; the listing is `complete` only when every page came.
"""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.wecom.api import RateLimited, WeComApi, WeComError, WeComUnavailable
from bot.directory import DirectoryUnavailable, Listing, Member, Progress

log = logging.getLogger(__name__)
PAGE = 10_000  # members per user/list_id page, WeCom's most
PATIENCE = (1.0, 2.0, 5.0, 10.0, 30.0)  # pauses after each 45009, then it gives up


class WeComDirectory:
    platform = "wecom"

    def __init__(self, api: WeComApi, link_by: str, contacts: WeComApi | None = None) -> None:
        self.api = api
        self.contacts = contacts  # the contacts-sync secret's client, for user/list_id
        self.link_by = link_by
        self.calls = 0

    async def _call(
        self,
        path: str,
        body: dict[str, object] | None = None,
        *,
        api: WeComApi | None = None,
        **params: str,
    ) -> dict[str, object]:
        for pause in (*PATIENCE, None):
            self.calls += 1
            try:
                return await (api or self.api).call(path, body, params=params or None)
            except RateLimited:
                if pause is None:
                    raise DirectoryUnavailable(
                        "rate", "WeCom kept answering 45009 (call rate exceeded); try later"
                    ) from None
                await asyncio.sleep(pause)
            except WeComUnavailable as exc:
                raise DirectoryUnavailable(
                    "unreachable", f"WeCom could not be reached: {exc}"
                ) from None
            except WeComError as exc:
                raise DirectoryUnavailable(
                    "refused",
                    f"WeCom refused {path} ({exc.code} {exc.message}): see docs/wecom.md for "
                    "the visible range (可见范围), the trusted IP (企业可信IP) and, for "
                    "user/list_id, WECOM_CONTACTS_SECRET",
                    path=path,
                    errcode=exc.code,
                    error=exc.message,
                ) from None
        raise AssertionError("unreachable")

    async def listing(self, progress: Progress | None = None) -> Listing:
        self.calls = 0
        if self.link_by in ("mobile", "email"):
            members = await self._by_department("/cgi-bin/user/list", progress)
            if members and not any(getattr(m, self.link_by) for m in members):
                raise DirectoryUnavailable(
                    "no_field",
                    f"WeCom gives this app no {self.link_by} of its {len(members)} members, "
                    f"so WECOM_LINK_BY={self.link_by} can link no one. Since June 2022 a "
                    "self-built app reads them only where the admin allows it (管理后台 → "
                    "应用管理 → this app → 成员敏感信息); or use WECOM_LINK_BY=staff_no, or "
                    "invite codes",
                    field=self.link_by,
                    count=len(members),
                )
        elif self.contacts is not None:
            members = await self._ids(self.contacts, progress)
        else:
            members = await self._by_department("/cgi-bin/user/simplelist", progress)
        return Listing(members, complete=True, calls=self.calls)

    async def _ids(self, contacts: WeComApi, progress: Progress | None) -> list[Member]:
        seen: dict[str, Member] = {}
        cursor = ""
        while True:
            page = await self._call(
                "/cgi-bin/user/list_id", {"cursor": cursor, "limit": PAGE}, api=contacts
            )
            before = len(seen)
            for row in _rows(page, "dept_user"):
                uid = str(row.get("userid") or "")
                if uid:
                    seen.setdefault(uid, Member(uid))
            if progress is not None:
                progress(len(seen) - before, None)
            cursor = str(page.get("next_cursor") or "")
            if not cursor:
                return list(seen.values())

    async def _by_department(self, path: str, progress: Progress | None) -> list[Member]:
        """Every visible department's members, each once (a member may be in several)."""
        departments = [
            str(row["id"])
            for row in _rows(await self._call("/cgi-bin/department/simplelist"), "department_id")
            if "id" in row
        ]
        seen: dict[str, Member] = {}
        for department in departments:
            page = await self._call(path, department_id=department)
            before = len(seen)
            for row in _rows(page, "userlist"):
                uid = str(row.get("userid") or "")
                if uid and uid not in seen:
                    seen[uid] = Member(
                        uid,
                        name=str(row.get("name") or ""),
                        mobile=str(row.get("mobile") or "") or None,
                        email=str(row.get("email") or row.get("biz_mail") or "") or None,
                    )
            if progress is not None:
                progress(len(seen) - before, None)
        return list(seen.values())


def _rows(answer: dict[str, object], key: str) -> list[dict[str, object]]:
    rows = answer.get(key)
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []
