"""Every user-facing string exists in zh and en, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import build_catalog
from bot.i18n import LANGUAGES, placeholders
from commands import build_registry

ROOT = Path(__file__).resolve().parent.parent
CATALOG = build_catalog()


def test_both_languages_have_the_same_keys() -> None:
    zh, en = set(CATALOG.keys("zh")), set(CATALOG.keys("en"))
    assert not zh - en, f"missing in en: {sorted(zh - en)}"
    assert not en - zh, f"missing in zh: {sorted(en - zh)}"


def test_placeholders_match() -> None:
    for key in CATALOG.keys("zh"):
        assert placeholders(CATALOG.get("zh", key)) == placeholders(CATALOG.messages["en"][key]), (
            key
        )


def test_no_catalogue_file_is_empty() -> None:
    for directory in CATALOG.sources:
        for lang in LANGUAGES:
            for path in (directory / lang).glob("*.toml"):
                assert path.read_text(encoding="utf-8").strip(), path


def test_every_command_has_help_in_both_languages() -> None:
    for command in build_registry():
        for lang in LANGUAGES:
            assert command.help_key + ".summary" in CATALOG.messages[lang], command.name


def test_every_area_has_a_title() -> None:
    for area in build_registry().areas:
        assert CATALOG.has(f"{area.name}.area"), area.name


def test_every_role_has_a_label() -> None:
    from storage.roster import ROLE_NAMES

    for role in {*ROLE_NAMES, "staff", "member", "delegate"}:
        assert CATALOG.has(f"role.{role}"), role


KEY_CALL = re.compile(
    r"""(?:\.t|UserError|Invalid|ArgumentError\([^,]+,)\(\s*["']([a-z_]+(?:\.[a-z0-9_]+)+)["']"""
)


@pytest.mark.parametrize(
    "path",
    sorted(p for pkg in ("bot", "commands", "schedules") for p in (ROOT / pkg).rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_literal_keys_used_in_code_exist(path: Path) -> None:
    for key in KEY_CALL.findall(path.read_text(encoding="utf-8")):
        assert CATALOG.has(key), f"{path.name} uses {key!r}, which no catalogue defines"


def test_the_key_scanner_finds_keys() -> None:
    sample = 'ctx.t("identity.link.done", name=x)\nraise UserError("help.unknown")'
    assert KEY_CALL.findall(sample) == ["identity.link.done", "help.unknown"]
