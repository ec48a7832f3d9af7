"""Multi-step forms, declared once and shown by each adapter its own way.

The console and Telegram ask field by field, keeping the state in the shared
store (`FormState`, plain JSON) so a restart or another instance goes on with the
same form; Slack shows all fields at once in a modal and submits them together.
Both end in `validate_all`, so the rules are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.args import Converter, Invalid, text
from bot.permissions import LINKED, Requirement

if TYPE_CHECKING:
    from bot.context import Context
    from bot.i18n import Catalog
    from bot.registry import Result
    from bot.replies import Reply

CANCEL_WORDS = frozenset({"cancel", "/cancel", "取消", "/取消", "退出"})
SKIP_WORDS = frozenset({"-", "skip", "跳过", "无"})
KEEP_WORDS = frozenset({".", "。", "keep", "不变"})


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label_key: str
    convert: Converter = field(default_factory=text)
    required: bool = True
    multiline: bool = False
    # (stable value, catalogue key of its label) for a pick-one field
    choices: tuple[tuple[str, str], ...] = ()
    hint_key: str | None = None


Submit = Callable[["Context[Any]", dict[str, Any], dict[str, Any]], Awaitable["Result"]]


@dataclass(frozen=True, slots=True)
class Form:
    name: str
    title_key: str
    fields: tuple[FormField, ...]
    on_submit: Submit
    permission: Requirement = LINKED


@dataclass(slots=True)
class StartForm:
    """A handler's answer that opens a form (prefilled with `initial` raw texts when editing)."""

    form: str
    initial: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    intro: Reply | None = None


@dataclass(slots=True)
class FormState:
    form: str
    step: int = 0
    values: dict[str, str] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "step": self.step,
            "values": self.values,
            "context": self.context,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormState:
        return cls(
            form=str(data["form"]),
            step=int(data.get("step", 0)),
            values={str(k): str(v) for k, v in dict(data.get("values", {})).items()},
            context=dict(data.get("context", {})),
        )


def choice_lookup(form_field: FormField, catalog: Catalog) -> dict[str, str]:
    """Every word that picks a choice: its value, its label in each language, its number."""
    lookup: dict[str, str] = {}
    for number, (value, label_key) in enumerate(form_field.choices, start=1):
        lookup[value.casefold()] = value
        lookup[str(number)] = value
        for lang in catalog.messages:
            lookup[catalog.get(lang, label_key).casefold()] = value
    return lookup


def convert_field(form_field: FormField, raw: str, catalog: Catalog) -> Any:
    """The value of one answer, or `Invalid` saying what is wrong with it."""
    raw = raw.strip()
    if not raw or raw.casefold() in SKIP_WORDS:
        if form_field.required:
            raise Invalid("bot.form.required")
        return None
    if form_field.choices:
        found = choice_lookup(form_field, catalog).get(raw.casefold())
        if found is None:
            raise Invalid("bot.form.pick_one")
        return form_field.convert(found)
    return form_field.convert(raw)


def validate_all(
    form: Form, raw: dict[str, str], catalog: Catalog
) -> tuple[dict[str, Any], dict[str, Invalid]]:
    values: dict[str, Any] = {}
    errors: dict[str, Invalid] = {}
    for form_field in form.fields:
        try:
            values[form_field.name] = convert_field(
                form_field, raw.get(form_field.name, ""), catalog
            )
        except Invalid as exc:
            errors[form_field.name] = exc
        except ValueError:
            errors[form_field.name] = Invalid(
                "bot.invalid.generic", value=raw.get(form_field.name, "")
            )
    return values, errors
