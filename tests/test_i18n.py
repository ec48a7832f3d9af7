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


PLURAL = re.compile(r"\.#(zero|one|two|few|many|other)$")


def base_keys(lang: str) -> set[str]:
    """Keys with plural forms counted once: each language writes the forms its rules have."""
    return {PLURAL.sub("", key) for key in CATALOG.keys(lang)}


def test_both_languages_have_the_same_keys() -> None:
    zh, en = base_keys("zh"), base_keys("en")
    assert not zh - en, f"missing in en: {sorted(zh - en)}"
    assert not en - zh, f"missing in zh: {sorted(en - zh)}"


def test_placeholders_match() -> None:
    for key in CATALOG.keys("zh"):
        other = CATALOG.messages["en"].get(key)
        assert other is not None, key
        assert placeholders(CATALOG.messages["zh"][key]) == placeholders(other), key


def test_every_plural_form_a_language_needs_is_written() -> None:
    """English needs "one" wherever Chinese has a plural message; and each form is used."""
    for key in CATALOG.keys("en"):
        if key.endswith(".#other"):
            base = key.removesuffix(".#other")
            assert f"{base}.#one" in CATALOG.messages["en"], key
    assert CATALOG.get("en", "meetings.offset.days", n=1) == "1 day before"
    assert CATALOG.get("en", "meetings.offset.days", n=2) == "2 days before"
    assert CATALOG.get("zh", "meetings.offset.days", n=1) == "提前 1 天"


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


FULL_WIDTH = re.compile(r"[，。：；（）！？「」【】、“”‘’《》]")


def test_english_text_uses_ascii_punctuation() -> None:
    """Full-width punctuation belongs to Chinese text: no English string carries any."""
    wrong = {k: v for k, v in CATALOG.messages["en"].items() if FULL_WIDTH.search(v)}
    assert not wrong, wrong


def test_the_punctuation_scan_would_find_some() -> None:
    assert FULL_WIDTH.search("A solved：done") and not FULL_WIDTH.search("A solved: done")


def test_chinese_text_addresses_the_reader_one_way() -> None:
    """The bot says 你 everywhere: a reply in 您 beside one in 你 reads as two voices."""
    formal = {k: v for k, v in CATALOG.messages["zh"].items() if "您" in v}
    assert not formal, formal
