"""What WeCom posts to the callback: the encrypted envelope, read without an XML parser so
nothing is parsed before the signature is checked, and the message inside, parsed only
once it has been decrypted.

A message inside is WeCom's plain XML (text, image, an event such as a card's button
press); anything else is `BadCallback`, which the edge answers with a 400.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# The envelope's one field that the signature covers: base64 inside CDATA (or bare).
_ENCRYPT = re.compile(
    rb"<Encrypt>\s*(?:<!\[CDATA\[)?([A-Za-z0-9+/=\s]{1,200000}?)(?:\]\]>)?\s*</Encrypt>"
)


class BadCallback(ValueError):
    """A callback that is not the shape WeCom sends."""


def encrypted_field(body: bytes) -> str:
    """The envelope's ciphertext, as the signature covers it."""
    found = _ENCRYPT.search(body)
    if found is None:
        raise BadCallback("no Encrypt field")
    return found.group(1).decode("ascii").strip()


@dataclass(frozen=True, slots=True)
class Callback:
    """One decrypted message or event, in WeCom's words."""

    msg_type: str  # text, image, event, ...
    from_user: str
    create_time: str
    msg_id: str = ""
    content: str = ""
    media_id: str = ""
    event: str = ""  # for msg_type "event": template_card_event, enter_agent, ...
    event_key: str = ""  # a card button's key
    task_id: str = ""
    response_code: str = ""  # lets the card be updated once

    @property
    def dedup_key(self) -> str:
        """What makes a retry recognisable: the MsgId of a message; an event has none, so
        its sender, time and kind (and a button press's own code) stand in for it."""
        if self.msg_id:
            return self.msg_id
        return ":".join(["event", self.from_user, self.create_time, self.event, self.response_code])


def parse_message(plain: bytes) -> Callback:
    """The decrypted XML. It was encrypted by WeCom with our key, but is parsed with the
    same care as anything else: no DTD, no entities."""
    if b"<!DOCTYPE" in plain or b"<!ENTITY" in plain:
        raise BadCallback("a DTD in the message")
    try:
        root = ET.fromstring(plain)
    except ET.ParseError:
        raise BadCallback("the message is not XML") from None

    def text(tag: str) -> str:
        found = root.find(tag)
        return (found.text or "").strip() if found is not None else ""

    msg_type = text("MsgType")
    sender = text("FromUserName")
    if root.tag != "xml" or not msg_type or not sender:
        raise BadCallback("the message has no MsgType or FromUserName")
    return Callback(
        msg_type=msg_type,
        from_user=sender,
        create_time=text("CreateTime"),
        msg_id=text("MsgId"),
        content=text("Content"),
        media_id=text("MediaId"),
        event=text("Event"),
        event_key=text("EventKey"),
        task_id=text("TaskId"),
        response_code=text("ResponseCode"),
    )
