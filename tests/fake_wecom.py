"""A fake WeCom server API on loopback, and callbacks signed and encrypted as WeCom does.

It issues access tokens and expires them, answers 45009 when its call rate is exceeded,
records every send, names ids outside the app's visible range in `invaliduser` (81013
when every id is), serves the directory (departments, their members with or without a
readable mobile and email, and the member id list in cursor pages to the contacts-sync
secret only) and media, counts every call by path, and lets a card's response_code be
used once. Callbacks are encrypted with
wechatpy, an implementation independent of the adapter's.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto

from tests.loopback import serve

CORP_ID = "ww5823bf96d3bd56c7"
AGENT_ID = 1000002
SECRET = "app-secret-never-logged-0123456789"
CONTACTS_SECRET = "contacts-sync-secret-0123456789"  # 通讯录同步 secret, for user/list_id
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"


@dataclass
class Send:
    body: dict[str, Any]

    @property
    def to(self) -> list[str]:
        return str(self.body.get("touser") or "").split("|")

    @property
    def msgtype(self) -> str:
        return str(self.body["msgtype"])


@dataclass
class FakeWeCom:
    sends: list[Send] = field(default_factory=list)
    card_updates: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[tuple[str, str, bytes]] = field(default_factory=list)
    outside: set[str] = field(default_factory=set)  # ids not in the app's visible range
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # for user/get
    media: dict[str, bytes] = field(default_factory=dict)  # media_id -> content, media/get
    # whether the admin lets the app read its members' mobile and email (成员敏感信息)
    sensitive_readable: bool = True
    calls: Counter[str] = field(default_factory=Counter)  # path -> calls answered
    rate_per_second: int = 0  # calls allowed in any second; 0: no limit
    refuse_markdown: bool = False  # answer 40008 to markdown, as a client-less API might
    token_lifetime: int = 7200
    token_fetches: int = 0
    rate_limited: int = 0  # how many 45009s it answered
    runner: web.AppRunner | None = None
    url: str = ""
    _tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at
    _contacts_tokens: set[str] = field(default_factory=set)  # issued to the contacts secret
    _calls: deque[float] = field(default_factory=deque)
    _response_codes: set[str] = field(default_factory=set)
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)  # duplicate check
    duplicates_dropped: int = 0

    async def start(self) -> str:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_get("/cgi-bin/gettoken", self.gettoken)
        app.router.add_post("/cgi-bin/message/send", self.message_send)
        app.router.add_post("/cgi-bin/message/update_template_card", self.update_card)
        app.router.add_get("/cgi-bin/user/get", self.user_get)
        app.router.add_get("/cgi-bin/department/simplelist", self.departments)
        app.router.add_get("/cgi-bin/user/simplelist", self.department_members)
        app.router.add_get("/cgi-bin/user/list", self.department_members)
        app.router.add_post("/cgi-bin/user/list_id", self.member_ids)
        app.router.add_post("/cgi-bin/media/upload", self.media_upload)
        app.router.add_get("/cgi-bin/media/get", self.media_get)
        self.runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    # ------------------------------------------------------------------ the API

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (42001), as after two hours."""
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    async def gettoken(self, request: web.Request) -> web.Response:
        if request.query.get("corpid") != CORP_ID:
            return _error(40013, "invalid corpid")
        secret = request.query.get("corpsecret")
        if secret not in (SECRET, CONTACTS_SECRET):
            return _error(40001, "invalid credential")
        self.token_fetches += 1
        token = "tok-" + secrets.token_hex(16)
        self._tokens[token] = time.time() + self.token_lifetime
        if secret == CONTACTS_SECRET:
            self._contacts_tokens.add(token)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_lifetime}
        )

    def _refused(self, request: web.Request) -> web.Response | None:
        """A wrong or expired token, or over the call rate: the error WeCom answers."""
        self.calls[request.path] += 1
        token = request.query.get("access_token", "")
        if token not in self._tokens:
            return _error(40014, "invalid access_token")
        if self._tokens[token] < time.time():
            return _error(42001, "access_token expired")
        if self.rate_per_second:
            now = time.monotonic()
            while self._calls and self._calls[0] < now - 1:
                self._calls.popleft()
            if len(self._calls) >= self.rate_per_second:
                self.rate_limited += 1
                return _error(45009, "api freq out of limit")
            self._calls.append(now)
        return None

    async def message_send(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = await request.json()
        if int(body.get("agentid") or 0) != AGENT_ID:
            return _error(40056, "invalid agentid")
        if body.get("msgtype") == "markdown" and self.refuse_markdown:
            return _error(40008, "invalid message type")
        to = [uid for uid in str(body.get("touser") or "").split("|") if uid]
        if not 0 < len(to) <= 1000:
            return _error(40031, "invalid userid list")
        invalid = [uid.lower() for uid in to if uid in self.outside]
        if len(invalid) == len(to):
            return _error(81013, "user & party & tag all invalid")
        to = self._not_duplicates(body, [uid for uid in to if uid not in self.outside])
        if to:
            self.sends.append(Send(body | {"touser": "|".join(to)}))
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "msgid": "msg-" + secrets.token_hex(8),
        }
        if body.get("msgtype") == "template_card":
            code = "rc-" + secrets.token_hex(8)
            self._response_codes.add(code)
            answer["response_code"] = code
        return web.json_response(answer)

    def _not_duplicates(self, body: dict[str, Any], to: list[str]) -> list[str]:
        """WeCom's duplicate check: the same request (but for its recipients) to a member
        within the interval is not delivered to them again."""
        if not body.get("enable_duplicate_check"):
            return to
        content = json.dumps({k: v for k, v in body.items() if k != "touser"}, sort_keys=True)
        now, window = time.time(), float(body.get("duplicate_check_interval") or 1800)
        fresh = []
        for uid in to:
            if self._seen.get((uid, content), 0.0) > now - window:
                self.duplicates_dropped += 1
                continue
            self._seen[(uid, content)] = now
            fresh.append(uid)
        return fresh

    def press_code(self) -> str:
        """A response_code as a button press's callback carries it."""
        code = "rc-" + secrets.token_hex(8)
        self._response_codes.add(code)
        return code

    async def update_card(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        body = await request.json()
        code = str(body.get("response_code") or "")
        if code not in self._response_codes:
            return _error(40128, "invalid response_code")  # used, expired or made up
        self._response_codes.discard(code)
        self.card_updates.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def user_get(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        member = self.members.get(request.query.get("userid", ""))
        if member is None:
            return _error(60111, "userid not found")
        return web.json_response({"errcode": 0, "errmsg": "ok", **member})

    async def departments(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        found = sorted({d for m in self.members.values() for d in m.get("department", [1])})
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "department_id": [{"id": d} for d in found]}
        )

    async def department_members(self, request: web.Request) -> web.Response:
        """user/simplelist (ids and names) and user/list (with mobile and email, where
        the member's are readable) of one department."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        department = int(request.query.get("department_id", "0"))
        detailed = request.path.endswith("/list")
        rows = []
        for uid, member in self.members.items():
            if department not in member.get("department", [1]):
                continue
            row = {"userid": uid, "name": member.get("name", uid)}
            if detailed and self.sensitive_readable:
                row |= {k: member[k] for k in ("mobile", "email") if k in member}
            rows.append(row)
        return web.json_response({"errcode": 0, "errmsg": "ok", "userlist": rows})

    async def member_ids(self, request: web.Request) -> web.Response:
        """user/list_id: (userid, department) pairs in pages, `next_cursor` until the last;
        WeCom serves it to the contacts-sync secret only (48002 to an app's token)."""
        refused = self._refused(request)
        if refused is not None:
            return refused
        if request.query.get("access_token") not in self._contacts_tokens:
            return _error(48002, "api forbidden")
        body = await request.json()
        limit = int(body.get("limit") or 1000)
        if not 1 <= limit <= 10_000:
            return _error(40058, "limit must be 1..10000")
        cursor = str(body.get("cursor") or "")
        start = int(cursor.removeprefix("c")) if cursor else 0
        pairs = [
            {"userid": uid, "department": department}
            for uid, member in self.members.items()
            for department in member.get("department", [1])
        ]
        page = pairs[start : start + limit]
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "dept_user": page}
        if start + limit < len(pairs):
            answer["next_cursor"] = f"c{start + limit}"
        return web.json_response(answer)

    async def media_upload(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        form = await request.post()
        upload = form["media"]
        assert isinstance(upload, web.FileField)
        content = upload.file.read()
        media_id = "media-" + secrets.token_hex(8)
        self.uploads.append((request.query.get("type", ""), upload.filename, content))
        self.media[media_id] = content
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "type": request.query.get("type"), "media_id": media_id}
        )

    async def media_get(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        content = self.media.get(request.query.get("media_id", ""))
        if content is None:
            return _error(40007, "invalid media_id")
        return web.Response(
            body=content,
            content_type="image/png",
            headers={"Content-Disposition": 'attachment; filename="photo.png"'},
        )

    # ------------------------------------------------------------------ what was sent

    def sent_to(self, user_id: str, since: int = 0) -> list[Send]:
        return [send for send in self.sends[since:] if user_id in send.to]


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"errcode": code, "errmsg": message})


# ---------------------------------------------------------------------- callbacks


def text_message(user_id: str, content: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user_id}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{_cdata(content)}]]></Content><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def _cdata(text: str) -> str:
    return text.replace("]]>", "]]]]><![CDATA[>")


def image_message(user_id: str, media_id: str, msg_id: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user_id}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[https://wework.qpic.cn/x]]></PicUrl>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def card_event(user_id: str, key: str, task_id: str, response_code: str) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user_id}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
        f"<CardType><![CDATA[button_interaction]]></CardType>"
        f"<ResponseCode><![CDATA[{response_code}]]></ResponseCode>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def _encrypted(crypto: WeChatCrypto, plain: str, nonce: str, stamp: str) -> tuple[str, str]:
    """wechatpy's ciphertext and signature, out of the envelope it writes around them."""
    envelope = crypto.encrypt_message(plain, nonce, stamp)
    encrypt = envelope.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
    signature = envelope.split("<MsgSignature><![CDATA[", 1)[1].split("]]>", 1)[0]
    return encrypt, signature


@dataclass(frozen=True)
class Signed:
    """A callback as WeCom posts it: its query and its encrypted body."""

    query: dict[str, str]
    body: bytes


def sign(
    plain: str,
    *,
    corp_id: str = CORP_ID,
    token: str = TOKEN,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> Signed:
    """Encrypt and sign `plain` exactly as WeCom does (with wechatpy)."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = nonce or secrets.token_hex(5)
    encrypt, signature = _encrypted(WeChatCrypto(token, AES_KEY, corp_id), plain, nonce, stamp)
    # WeCom's envelope names the receiver and agent around the ciphertext; the signature
    # covers only the ciphertext.
    body = (
        f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
        f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    ).encode()
    return Signed({"msg_signature": signature, "timestamp": stamp, "nonce": nonce}, body)


def sign_echo(echo: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The URL verification's query: echostr encrypted and signed as WeCom does."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = secrets.token_hex(5)
    encrypt, signature = _encrypted(WeChatCrypto(TOKEN, AES_KEY, CORP_ID), echo, nonce, stamp)
    return {"msg_signature": signature, "timestamp": stamp, "nonce": nonce, "echostr": encrypt}


def env(fake_url: str, **extra: str) -> dict[str, str]:
    return {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_URL": fake_url,
        **extra,
    }
