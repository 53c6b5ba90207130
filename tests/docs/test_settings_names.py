"""Every `CLONECHATS_…` variable the documentation names is a real setting.

Pages name a variable in full (`CLONECHATS_EMAIL__PROVIDER`) and then its neighbours in the same
section as `…__FIELD`; the short form belongs to the section named last before it on the page.
"""

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from clonechats.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md", ROOT / "bench" / "README.md"]
NOT_SETTINGS = {"TEST_MONGODB_URL", "TEST_ENGINE"}  # read by the test suite, not by the app
EXAMPLE_VENDOR = "POSTBOX"  # the guide's made-up vendor: test_adding_a_provider checks its names
WORD = r"[A-Z0-9]+(?:_[A-Z0-9]+)*"
MENTION = re.compile(rf"CLONECHATS_(?P<top>{WORD})(?:__(?P<field>{WORD}))?|…__(?P<short>{WORD})")


def section_model(name: str) -> type[BaseModel] | None:
    field = Settings.model_fields.get(name)
    annotation = field.annotation if field is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def unknown_names(text: str) -> list[str]:
    unknown: list[str] = []
    section: str | None = None
    for match in MENTION.finditer(text):
        if match["short"] is not None:
            if EXAMPLE_VENDOR in match["short"]:
                continue
            model = section_model(section) if section else None
            if model is None or match["short"].lower() not in model.model_fields:
                unknown.append(f"…__{match['short']} (section {section})")
            continue
        top, field = match["top"], match["field"]
        if top in NOT_SETTINGS or EXAMPLE_VENDOR in (field or ""):
            continue
        if top.lower() not in Settings.model_fields:
            unknown.append(match[0])
            continue
        model = section_model(top.lower())
        if model is not None:
            section = top.lower()
        if field is not None and (model is None or field.lower() not in model.model_fields):
            unknown.append(match[0])
    return unknown


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_variable_a_page_names_exists(page: Path) -> None:
    assert unknown_names(page.read_text(encoding="utf-8")) == []


def test_the_check_catches_a_wrong_name() -> None:
    text = ("`CLONECHATS_EMAIL__PROVIDER`, `…__RESEND_API_KEY`, `CLONECHATS_EMAIL__SENDER`, "
            "`…__NOPE`, `CLONECHATS_DATA_DIR`, `CLONECHATS_DATADIR`, `CLONECHATS_LLM__…`, "
            "`…__OPENAI_API_KEY`")
    assert unknown_names(text) == ["CLONECHATS_EMAIL__SENDER", "…__NOPE (section email)",
                                   "CLONECHATS_DATADIR"]
