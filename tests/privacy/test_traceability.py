"""The traceability table (docs/privacy-traceability.md) names only tests and code that exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "privacy-traceability.md"


def test_every_test_named_in_the_table_exists():
    text = DOC.read_text()
    named = re.findall(r"`([a-z_/]+\.py)::(test_[a-z0-9_]+)`", text)
    assert len(named) > 40
    missing = []
    for path, test in named:
        source = (ROOT / "tests" / path).read_text()
        if not re.search(rf"^(async )?def {test}\(", source, re.MULTILINE):
            missing.append(f"{path}::{test}")
    assert missing == []


def test_every_function_named_in_the_table_exists():
    text = DOC.read_text()
    named = re.findall(r"`([a-z_/]+\.py):([a-zA-Z_]+)`", text)
    missing = []
    for path, name in named:
        source = (ROOT / "src" / "clonechats" / path).read_text()
        if not re.search(rf"^(async def|def|class) {name}\b|^{name}\b", source, re.MULTILINE):
            missing.append(f"{path}:{name}")
    assert missing == []
