"""The embedding provider contract: texts in, one unit-length vector per text out.

Retrieval models embed the two sides of a search differently (e5 models are trained with a
"query: " and a "passage: " prefix), so the contract has two methods: `embed_queries` for what is
searched with (a chat message) and `embed_passages` for what is searched in (memories). A provider
adds whatever prefixes its model needs; callers pass plain text.

`model_id` names the model *and* its weights: vectors are only comparable with vectors that carry
the same id, so callers store it beside every vector and ignore vectors with another id.
Failures are raised as `providers.errors.ProviderError` (unavailable when the model cannot be
loaded or run, rejected when a text cannot be embedded).
"""

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class EmbeddingProvider(Protocol):
    name: str
    model_id: str
    dimensions: int

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector of `dimensions` floats per text, in order."""
        ...

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector of `dimensions` floats per text, in order."""
        ...
