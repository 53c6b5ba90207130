"""The offline translator: Apertium for real, and how it fails when the tool misbehaves."""

import stat
from pathlib import Path

import pytest

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.translation.local import ApertiumTranslator, tidy
from tests.contracts.test_translation_providers import APERTIUM

needs_apertium = pytest.mark.skipif(not APERTIUM, reason="Apertium is not installed")


@needs_apertium
async def test_english_and_spanish_translate_both_ways() -> None:
    apertium = ApertiumTranslator()
    to_spanish = await apertium.translate("I would like to plan a trip to Madrid next summer.",
                                          source="en", target="es")
    assert "viaje" in to_spanish.text and "Madrid" in to_spanish.text
    to_english = await apertium.translate("Me gusta mucho la playa.", source="es", target="en")
    assert "beach" in to_english.text.lower()


@needs_apertium
async def test_french_goes_through_spanish_and_says_so() -> None:
    apertium = ApertiumTranslator()
    pairs = {(p.source, p.target): p.via for p in apertium.pairs()}
    assert pairs[("en", "fr")] == "es" and pairs[("en", "es")] is None
    result = await apertium.translate("Hello, how are you?", source="en", target="fr")
    assert "comment" in result.text.lower()


@needs_apertium
async def test_lines_and_unknown_words_survive() -> None:
    result = await ApertiumTranslator().translate("Hello.\n\nQwertyzzz is my friend.",
                                                  source="en", target="es")
    assert "\n" in result.text
    assert "*" not in result.text and "Qwertyzzz" in result.text


def test_tidy_removes_doubled_spaces_but_keeps_lines() -> None:
    assert tidy(" Hola,  amigo \n  Adiós ") == "Hola, amigo\nAdiós"


def fake_apertium(tmp_path: Path, script: str) -> ApertiumTranslator:
    """A stand-in `apertium` command and one installed mode, to see how failures surface."""
    command = tmp_path / "apertium"
    command.write_text("#!/bin/sh\n" + script + "\n")
    command.chmod(command.stat().st_mode | stat.S_IEXEC)
    modes = tmp_path / "modes"
    modes.mkdir()
    (modes / "eng-spa.mode").write_text("")
    return ApertiumTranslator(command=str(command), modes_dir=modes, timeout_seconds=0.5)


async def test_only_pairs_with_installed_modes_are_offered(tmp_path: Path) -> None:
    apertium = fake_apertium(tmp_path, "cat")
    assert [(p.source, p.target) for p in apertium.pairs()] == [("en", "es")]
    missing = ApertiumTranslator(command="no-such-apertium-command", modes_dir=tmp_path)
    assert missing.pairs() == []


async def test_the_text_goes_through_standard_input_not_arguments(tmp_path: Path) -> None:
    apertium = fake_apertium(tmp_path, 'echo "args:$*"; cat')
    result = await apertium.translate("; rm -rf / $(whoami)", source="en", target="es")
    assert result.text == "args:-u -f txt eng-spa\n; rm -rf / $(whoami)"


async def test_a_failing_run_is_unavailable(tmp_path: Path) -> None:
    apertium = fake_apertium(tmp_path, "echo broken >&2; exit 3")
    with pytest.raises(ProviderUnavailable) as raised:
        await apertium.translate("Hello", source="en", target="es")
    assert raised.value.code == "failed"


async def test_a_hung_run_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    apertium = fake_apertium(tmp_path, "exec sleep 30")
    with pytest.raises(ProviderUnavailable) as raised:
        await apertium.translate("Hello", source="en", target="es")
    assert raised.value.code == "timeout"
