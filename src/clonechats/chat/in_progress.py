"""The replies this process is writing now, by message id: how a stop request finds its reply,
how admission counts, and how optional work (moods) sees that the process is busy. It imports
nothing, so any chat module may read it."""

from typing import Any

_writing: dict[str, Any] = {}


def add(message_id: str, generation: Any) -> None:
    _writing[message_id] = generation


def remove(message_id: str) -> None:
    _writing.pop(message_id, None)


def get(message_id: str) -> Any:
    return _writing.get(message_id)


def count() -> int:
    return len(_writing)
