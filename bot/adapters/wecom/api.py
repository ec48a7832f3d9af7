"""WeCom's server API over aiohttp: an access token cached and refreshed once for every
concurrent sender, bounded calls, and one exception tree for whatever goes wrong.

    WeComError            WeCom answered with an errcode other than 0 (`code`, `message`)
    ├── CredentialsRefused  the corp id or the app's secret are wrong: a setting to fix
    └── RateLimited         errcode 45009, the app's call rate: like an HTTP 429
    WeComUnavailable      no answer that could be read: the network, a timeout, a 5xx,
                          a body that is not JSON

The token (about two hours) is fetched when first needed, again some minutes before it
runs out, and at once when WeCom says it is invalid or expired (the call is then made
once more with the new one). Concurrent callers that find it missing or stale wait on one
refresh. Access tokens and the secret are kept out of the logs.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.logsafe import redact_in_logs
from bot.streams import read_at_most

DEFAULT_API = "https://qyapi.weixin.qq.com"
TOKEN_INVALID = frozenset({40014, 41001, 42001})  # invalid, missing, expired access token
CREDENTIALS_WRONG = frozenset({40001, 40013, 40091})  # invalid secret, corp id, secret format
RATE_LIMITED = 45009
SYSTEM_BUSY = -1
REFRESH_MARGIN = 300.0  # seconds before the token's end that it is renewed
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
RESPONSE_LIMIT = 1024 * 1024  # bytes of a JSON answer, at most


class WeComError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeCom errcode {code}: {message}")
        self.code = code
        self.message = message


class CredentialsRefused(WeComError):
    """The corp id or the app's secret are wrong: a setting to fix, not a retry."""


class RateLimited(WeComError):
    """errcode 45009: the app calls too fast; try again later, as after a 429."""


class WeComUnavailable(Exception):
    """No answer that could be read: the network, a timeout, a 5xx, not JSON."""


def _raise_for(data: dict[str, Any]) -> None:
    code = int(data.get("errcode") or 0)
    if code == 0:
        return
    message = str(data.get("errmsg") or "")[:300]
    if code in CREDENTIALS_WRONG:
        raise CredentialsRefused(code, message)
    if code == RATE_LIMITED:
        raise RateLimited(code, message)
    raise WeComError(code, message)


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    filename: str
    mime_type: str


class WeComApi:
    def __init__(self, base_url: str, corp_id: str, secret: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.corp_id = corp_id
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._renew_at = 0.0
        self._refresh = asyncio.Lock()
        self.token_fetches = 0
        redact_in_logs(secret)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ the token

    async def access_token(self, *, stale: str | None = None) -> str:
        """The cached token, or a new one; `stale` is one WeCom has just refused."""
        if self._fresh(stale):
            assert self._token is not None
            return self._token
        async with self._refresh:
            if self._fresh(stale):  # another caller refreshed it while this one waited
                assert self._token is not None
                return self._token
            data = await self._request(
                "GET", "/cgi-bin/gettoken", {"corpid": self.corp_id, "corpsecret": self._secret}
            )
            _raise_for(data)
            token = str(data.get("access_token") or "")
            if not token:
                raise WeComUnavailable("gettoken answered without a token")
            redact_in_logs(token)
            lifetime = float(data.get("expires_in") or 7200)
            self._token = token
            self._renew_at = time.monotonic() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
            self.token_fetches += 1
            return token

    def _fresh(self, stale: str | None) -> bool:
        return (
            self._token is not None and self._token != stale and time.monotonic() < self._renew_at
        )

    # ------------------------------------------------------------------ calls

    async def call(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        params: dict[str, str] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        """POST `body` (or GET when there is none) with the token; the answer, errcode 0."""
        token = await self.access_token()
        for attempt in range(2):
            query = {**(params or {}), "access_token": token}
            method = "POST" if body is not None or form is not None else "GET"
            data = await self._request(method, path, query, body, form)
            if int(data.get("errcode") or 0) in TOKEN_INVALID and attempt == 0:
                token = await self.access_token(stale=token)
                continue
            break
        _raise_for(data)
        return data

    async def _request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        # The URL carries the token or the secret: no error message here includes it.
        try:
            async with self._client().request(
                method,
                self.base_url + path,
                params=query,
                data=form if form is not None else None,
                json=body if form is None else None,
            ) as response:
                if response.status >= 500:
                    raise WeComUnavailable(f"{path} answered HTTP {response.status}")
                raw = await read_at_most(response.content, RESPONSE_LIMIT)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise WeComUnavailable(f"{path}: {type(exc).__name__}") from None
        if len(raw) > RESPONSE_LIMIT:
            raise WeComUnavailable(f"{path} answered more than {RESPONSE_LIMIT} bytes")
        try:
            data = json.loads(raw)
        except ValueError:
            raise WeComUnavailable(f"{path} answered something that is not JSON") from None
        if not isinstance(data, dict):
            raise WeComUnavailable(f"{path} answered JSON that is not an object")
        return data

    async def upload(self, kind: str, filename: str, content: bytes, mime_type: str) -> str:
        """A temporary media file (three days) for an image or file message: its media_id."""
        form = aiohttp.FormData()
        form.add_field("media", content, filename=filename, content_type=mime_type)
        data = await self.call("/cgi-bin/media/upload", params={"type": kind}, form=form)
        return str(data["media_id"])

    async def download(self, media_id: str, limit: int) -> Download | None:
        """A file a member sent (an image), or None when it is over `limit` bytes."""
        token = await self.access_token()
        try:
            async with self._client().get(
                self.base_url + "/cgi-bin/media/get",
                params={"access_token": token, "media_id": media_id},
            ) as response:
                if response.status >= 500:
                    raise WeComUnavailable(f"media/get answered HTTP {response.status}")
                mime = response.content_type or "application/octet-stream"
                if mime in ("application/json", "text/plain"):  # an error, not the file
                    _raise_for(json.loads(await read_at_most(response.content, RESPONSE_LIMIT)))
                    raise WeComUnavailable("media/get answered no file")
                if (response.content_length or 0) > limit:
                    return None
                content = await read_at_most(response.content, limit)
                name = (
                    response.content_disposition.filename if response.content_disposition else None
                )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WeComUnavailable(f"media/get: {type(exc).__name__}") from None
        if len(content) > limit:
            return None
        return Download(content, name or f"{media_id[:16]}.jpg", mime)
