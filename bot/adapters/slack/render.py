"""Neutral replies as Block Kit, and forms as modals; user text escaped for mrkdwn."""

from __future__ import annotations

import json
from typing import Any

from bot.forms import TITLE_KEY, Form
from bot.i18n import Catalog
from bot.render.escape import slack_mrkdwn as esc
from bot.render.split import clip, pieces, utf16_units
from bot.replies import Reply

ACTION_PREFIX = "cmd:"
VALUE_LIMIT = 2000  # Slack's cap on a button's value
FIELDS_PER_SECTION = 10
SECTION_LIMIT = 3000  # a section's mrkdwn text
FIELD_LIMIT = 2000  # a field's, and a context element's
HEADER_LIMIT = 150
BUTTON_LABEL_LIMIT = 75
MAX_BLOCKS = 50
TEXT_LIMIT = 40000  # the message's `text`: Slack truncates past this


def _escaped_size(text: str) -> int:
    """What a text costs once escaped for mrkdwn (limits count the escaped text)."""
    return utf16_units(esc(text))


def blocks(reply: Reply) -> list[dict[str, Any]]:
    """Block Kit for a reply: long text becomes several sections, split at paragraph, line
    or space and never inside an entity; "…" only where a block's own limit forces it."""
    out: list[dict[str, Any]] = []
    if reply.title:
        title = clip(reply.title, HEADER_LIMIT)
        out.append({"type": "header", "text": {"type": "plain_text", "text": title}})
    if reply.text:
        out += _sections((":warning: " if reply.error else ""), reply.text)
    for start in range(0, len(reply.fields), FIELDS_PER_SECTION):
        chunk = reply.fields[start : start + FIELDS_PER_SECTION]
        out.append({"type": "section", "fields": [_field(label, value) for label, value in chunk]})
    if reply.items:
        out += _sections("", "\n".join(f"• {item}" for item in reply.items))
    for section in reply.sections:
        out.append(_section(f"*{esc(clip(section.title, HEADER_LIMIT, _escaped_size))}*"))
        if section.items:
            out += _sections("", "\n".join(f"• {item}" for item in section.items))
        if section.pairs:
            out += _sections("", "\n".join(f"{t} — {d}" for t, d in section.pairs))
    actions = None
    if reply.choices:
        actions = {
            "type": "actions",
            "elements": [
                _button(index, choice.label, choice.command, choice.style)
                for index, choice in enumerate(reply.choices[:25])
            ],
        }
    footer = None
    if reply.footer:
        text = esc(clip(reply.footer, FIELD_LIMIT, _escaped_size))
        footer = {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
    tail = [block for block in (actions, footer) if block is not None]
    room = MAX_BLOCKS - len(tail)
    if len(out) > room:  # over 100,000 characters: Slack cannot show more in one message
        out = [*out[: room - 1], _section("…")]
    return out + tail


def _sections(prefix: str, text: str) -> list[dict[str, Any]]:
    limit = SECTION_LIMIT - len(prefix)
    return [_section(prefix + esc(piece)) for piece in pieces(text, limit, _escaped_size)]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}}


def _field(label: str, value: str) -> dict[str, Any]:
    head = f"*{esc(clip(label, 200, _escaped_size))}*\n"
    body = esc(clip(value, FIELD_LIMIT - len(head), _escaped_size))
    return {"type": "mrkdwn", "text": head + body}


def _button(index: int, label: str, command: str, style: str) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{index}",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_LABEL_LIMIT)},
        "value": command[:VALUE_LIMIT],
    }
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def fallback_text(reply: Reply) -> str:
    """The notification text (and what screen readers say): plain, never markup."""
    return esc(clip(reply.plain(), TEXT_LIMIT, _escaped_size)) or " "


def modal(
    form: Form, catalog: Catalog, lang: str, initial: dict[str, str], metadata: dict[str, Any]
) -> dict[str, Any]:
    # Opened under another name (a non-delegate's proposal is an 意见建议): say what it files.
    title_key = str((metadata.get("context") or {}).get(TITLE_KEY) or form.title_key)
    inputs: list[dict[str, Any]] = []
    for field in form.fields:
        label = catalog.get(lang, field.label_key).rstrip("：:")[:2000]
        element: dict[str, Any]
        if field.choices:
            options = [
                {
                    "text": {"type": "plain_text", "text": catalog.get(lang, key)[:75]},
                    "value": value,
                }
                for value, key in field.choices
            ]
            element = {"type": "static_select", "action_id": "value", "options": options}
            chosen = [o for o in options if o["value"] == initial.get(field.name)]
            if chosen:
                element["initial_option"] = chosen[0]
        else:
            element = {
                "type": "plain_text_input",
                "action_id": "value",
                "multiline": field.multiline,
            }
            if initial.get(field.name):
                element["initial_value"] = initial[field.name]
        block: dict[str, Any] = {
            "type": "input",
            "block_id": field.name,
            "element": element,
            "label": {"type": "plain_text", "text": label[:2000]},
            "optional": not field.required,
        }
        if field.hint_key:
            block["hint"] = {"type": "plain_text", "text": catalog.get(lang, field.hint_key)[:2000]}
        inputs.append(block)
    return {
        "type": "modal",
        "callback_id": f"form:{form.name}",
        "title": {"type": "plain_text", "text": catalog.get(lang, title_key)[:24]},
        "submit": {"type": "plain_text", "text": catalog.get(lang, "slack.submit")},
        "close": {"type": "plain_text", "text": catalog.get(lang, "slack.cancel")},
        "private_metadata": json.dumps(metadata, ensure_ascii=False)[:3000],
        "blocks": inputs,
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """What the person typed or picked, by field name, as text (validation happens later)."""
    raw: dict[str, str] = {}
    for block_id, actions in view.get("state", {}).get("values", {}).items():
        state = actions.get("value", {})
        if state.get("type") == "static_select":
            raw[block_id] = (state.get("selected_option") or {}).get("value", "")
        else:
            raw[block_id] = state.get("value") or ""
    return raw
