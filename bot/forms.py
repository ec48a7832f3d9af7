"""Multi-step forms, declared once and shown by each adapter its own way; and the engine
that asks them step by step.

The console and Telegram ask field by field, keeping the state in the shared
store (`FormState`, plain JSON) so a restart or another instance goes on with the
same form; Slack shows all fields at once in a modal and submits them together.
Both end in `validate_all`, so the rules are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.args import Converter, Invalid, text
from bot.permissions import LINKED, Requirement
from bot.replies import Choice, Reply

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import Sender
    from bot.i18n import Catalog
    from bot.registry import Result

S = TypeVar("S")

CANCEL_WORDS = frozenset({"cancel", "/cancel", "取消", "/取消", "退出"})
SKIP_WORDS = frozenset({"-", "skip", "跳过", "无"})
KEEP_WORDS = frozenset({".", "。", "keep", "不变"})
TITLE_KEY = "_title_key"  # in a form's context: the catalogue key of the title to show


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
    # A check that needs the person (may they schedule for this audience?), run as soon as
    # the step is answered, with the values of the steps before; raises `Invalid`.
    check: Callable[[Context[Any], Any, dict[str, Any]], None] | None = None


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


# ---------------------------------------------------------------- the step-by-step engine


@dataclass(slots=True)
class Step:
    """What one answer to a form led to: replies to send, or the whole form filled in
    (`done`: the form and its converted values, for the dispatcher to submit)."""

    replies: list[Reply] = field(default_factory=list)
    done: tuple[Form, dict[str, Any]] | None = None


class FormEngine(Generic[S]):
    """Asks a form field by field where a platform has no modal (console, Telegram).

    The state lives in the shared store through `save`, so a restart or another instance
    goes on with the same form. Cancel and keep words work at every step; at the end the
    whole form is validated again, since a rule may have changed since an earlier step.
    """

    def __init__(
        self,
        forms: Callable[[str], Form | None],
        catalog: Catalog,
        save: Callable[[S, Sender, FormState | None], Awaitable[None]],
    ) -> None:
        self.forms = forms
        self.catalog = catalog
        self.save = save

    async def start(self, ctx: Context[S], form: Form, start: StartForm) -> Reply:
        """Open `form` for this person (prefilled when editing) and ask its first field."""
        state = FormState(form=form.name, values=dict(start.initial), context=dict(start.context))
        await self.save(ctx.services, ctx.message.sender, state)
        return self.prompt(ctx, form, state)

    def prompt(self, ctx: Context[S], form: Form, state: FormState) -> Reply:
        form_field = form.fields[state.step]
        lines = [ctx.t(form_field.label_key)]
        if form_field.hint_key:
            lines.append(ctx.t(form_field.hint_key))
        if form_field.multiline:
            lines.append(ctx.t("bot.form.multiline"))
        current = state.values.get(form_field.name)
        if current:
            lines.append(ctx.t("bot.form.current", value=current))
        if not form_field.required:
            lines.append(ctx.t("bot.form.optional"))
        choices = [
            Choice(label=ctx.t(label_key), command=value) for value, label_key in form_field.choices
        ]
        if form_field.choices:
            lines.append(
                " / ".join(
                    f"{number}. {ctx.t(label_key)}"
                    for number, (_, label_key) in enumerate(form_field.choices, start=1)
                )
            )
        # A form may be opened under another name (a non-delegate's proposal is filed as an
        # 意见建议): the title says what it files.
        title_key = str(state.context.get(TITLE_KEY) or form.title_key)
        return Reply(
            title=ctx.t(title_key) + f" ({state.step + 1}/{len(form.fields)})",
            text="\n".join(lines),
            choices=[
                *choices,
                Choice(
                    label=ctx.t("bot.form.cancel_label"),
                    command="取消" if ctx.lang == "zh" else "cancel",
                    style="danger",
                ),
            ],
            footer=ctx.t("bot.form.cancel_hint"),
            private=True,
        )

    def _earlier(self, form: Form, state: FormState) -> dict[str, Any]:
        """The values of the steps answered so far."""
        found: dict[str, Any] = {}
        for form_field in form.fields[: state.step]:
            try:
                found[form_field.name] = convert_field(
                    form_field, state.values.get(form_field.name, ""), self.catalog
                )
            except ValueError:  # Invalid too: it was accepted then; a rule changed since
                continue
        return found

    async def step(self, ctx: Context[S], state: FormState) -> Step:
        """Take one answer: ask again if it does not fit, else the next field, or done."""
        sender = ctx.message.sender
        form = self.forms(state.form)
        answer = ctx.message.text.strip()
        if form is None:
            await self.save(ctx.services, sender, None)
            return Step([Reply(text=ctx.t("bot.form.gone"), error=True)])
        if answer.casefold() in CANCEL_WORDS:
            await self.save(ctx.services, sender, None)
            return Step([Reply(text=ctx.t("bot.form.cancelled", form=ctx.t(form.title_key)))])
        form_field = form.fields[min(state.step, len(form.fields) - 1)]
        if answer.casefold() in KEEP_WORDS and state.values.get(form_field.name):
            answer = state.values[form_field.name]
        if form_field.multiline:  # one line per message on the console: \n starts a new one
            answer = answer.replace("\\n", "\n")
        try:
            value = convert_field(form_field, answer, self.catalog)
            if form_field.check is not None:
                form_field.check(ctx, value, self._earlier(form, state))
        except Invalid as exc:
            error = Reply(text=ctx.t(exc.key, **exc.params), error=True, private=True)
            return Step([error, self.prompt(ctx, form, state)])
        except ValueError:
            error = Reply(text=ctx.t("bot.invalid.generic", value=answer[:50]), error=True)
            return Step([error, self.prompt(ctx, form, state)])
        state.values[form_field.name] = answer
        state.step += 1
        if state.step < len(form.fields):
            await self.save(ctx.services, sender, state)
            return Step([self.prompt(ctx, form, state)])
        values, errors = validate_all(form, state.values, self.catalog)
        if errors:  # a rule changed since an earlier step: go back to the first bad field
            first = next(i for i, f in enumerate(form.fields) if f.name in errors)
            state.step = first
            await self.save(ctx.services, sender, state)
            err = errors[form.fields[first].name]
            return Step(
                [
                    Reply(text=ctx.t(err.key, **err.params), error=True),
                    self.prompt(ctx, form, state),
                ]
            )
        await self.save(ctx.services, sender, None)
        return Step(done=(form, values))
