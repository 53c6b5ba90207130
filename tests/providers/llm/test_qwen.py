"""The one test that loads the real 1.1 GB Qwen2.5 1.5B model (the default `make run` gives):
it is joined and verified, loads, and answers in persona through the compact frame. Every other
test uses the light SmolLM2 model or a fake (tests/conftest.py)."""

import pytest

from clonechats.personas.compact_frame import compact_frame
from clonechats.providers.llm import local_catalog
from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta
from clonechats.providers.llm.local import LocalProvider
from clonechats.providers.llm.model_files import default_models_dir, problem

QWEN_PATH = default_models_dir() / local_catalog.QWEN_FILE.file_name
NOT_JOINED = problem(local_catalog.QWEN_FILE, QWEN_PATH)


@pytest.mark.skipif(NOT_JOINED is not None, reason=f"{NOT_JOINED}: `make test` joins it")
async def test_qwen_1_5b_answers_in_the_personas_first_person():
    provider = LocalProvider(models=[local_catalog.CATALOG[local_catalog.QWEN]],
                             context_window=1024, cache_bytes=0)
    persona = {"name": "Maren", "tagline": "Keeper of the Gull Rock lighthouse.",
               "traits": ["patient"], "sliders": {"verbosity": 15}}
    messages = [ChatMessage(m["role"], m["content"])
                for m in compact_frame(persona, tag="0123456789abcdef")]
    messages.append(ChatMessage("user", "What is your name?"))
    items = [item async for item in provider.stream(
        model="local:qwen2.5-1.5b", messages=messages, max_tokens=16, temperature=0.0)]
    assert isinstance(items[-1], StreamEnd) and items[-1].usage.completion_tokens <= 16
    text = "".join(item.text for item in items if isinstance(item, TextDelta))
    assert "Maren" in text, text
    assert provider.status("local:qwen2.5-1.5b") == "ready"
