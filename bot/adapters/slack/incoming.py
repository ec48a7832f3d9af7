"""What Slack sends, made safe and plain before anything else looks at it.

Slack escapes `&`, `<` and `>` in message and slash-command text and writes its own
markup in angle brackets (links, mentions, channels). The rest of the bot wants what the
person typed: that is what is stored, and each renderer escapes it again on the way out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from urllib.parse import parse_qs

from bot.http_edge import Refused

_MARKUP = re.compile(r"<([^<>]*)>")


MAX_AGE_SECONDS = 300  # Slack's own rule: older requests may be replays


def signature_ok(secret: str, raw: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the raw bytes, and a fresh timestamp: checked before
    anything decodes the body (slack_sdk's verifier decodes it as UTF-8 first)."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def parse_body(raw: bytes, content_type: str) -> str:
    """The body as text, once it is known to parse as Slack's kinds of body; else 400.

    Slack sends UTF-8 JSON objects (events) or forms (slash commands, and interactivity
    with a JSON object in `payload`). A charset the request claims is ignored.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "body is not UTF-8") from None
    if content_type == "application/x-www-form-urlencoded":
        form = parse_qs(text, keep_blank_values=True)
        if "payload" in form:
            _json_object(form["payload"][0], "payload")
        return text
    _json_object(text, "body")
    return text


def _json_object(text: str, what: str) -> None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")


def _plain_markup(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("#"):  # <#C123|general>
        return "#" + (label or target[1:])
    if target.startswith("@"):  # <@U123> or <@U123|name>
        return "@" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
        return label or "@" + target[1:].split("^", 1)[0]
    return label or target  # a link: what the person typed is the label, or the URL


def typed_text(text: str) -> str:
    """What the person typed, from Slack's escaped message text."""
    plain = _MARKUP.sub(_plain_markup, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
