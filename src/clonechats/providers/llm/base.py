"""The language-model provider contract: messages in, text deltas out, then one `StreamEnd`.

`stream()` is an async generator. It yields `TextDelta`s as the model produces text and finishes
with exactly one `StreamEnd` carrying the usage the vendor reported (or, where a server reports
none, an estimate flagged `estimated=True`). A failure raises a `providers.errors.ProviderError`;
when it happens after some deltas were yielded, the caller keeps what arrived (adapters never
retry once text was delivered, so nothing is duplicated). A consumer that stops iterating (or is
cancelled) stops the generation: adapters close the HTTP stream, the local model stops at the
next token.

Model ids are "provider:model" (`local:qwen2.5-1.5b`, `openai:gpt-4o-mini`); `stream()` and
`count_tokens()` take that id (the bare vendor name is accepted too).
`count_tokens()` is what context building budgets with: exact for the local model (its own
tokenizer on the chat-formatted prompt), a conservative estimate for vendor models.
"""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]
ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown chat role {self.role!r}")


@dataclass(frozen=True)
class ModelInfo:
    id: str  # "provider:model"
    provider: str
    context_window: int  # tokens of prompt plus reply the model accepts
    label: str


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False  # True when the server reported no usage and we counted ourselves


@dataclass(frozen=True)
class StreamEnd:
    usage: Usage
    finish_reason: str  # "stop" | "length"


StreamItem = TextDelta | StreamEnd


@runtime_checkable
class LLMProvider(Protocol):
    name: str

    def models(self) -> list[ModelInfo]:
        """The models this provider serves, as the operator enabled them."""
        ...

    def stream(self, *, model: str, messages: list[ChatMessage], max_tokens: int,
               temperature: float = 0.7) -> AsyncIterator[StreamItem]:
        """Deltas as they are generated, then exactly one `StreamEnd`."""
        ...

    async def count_tokens(self, *, model: str, messages: list[ChatMessage]) -> int:
        """Prompt tokens `messages` take for `model` (never less than the model will count)."""
        ...


def split_model_id(model: str, provider: str) -> str:
    """The vendor's model name from "provider:name" (or a bare name)."""
    prefix = provider + ":"
    return model[len(prefix):] if model.startswith(prefix) else model


async def close_stream(stream: AsyncIterator[StreamItem]) -> None:
    """End a stream a caller stopped reading (an async generator runs its `finally` now, not
    when it is collected); an error while closing is not the caller's concern."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
