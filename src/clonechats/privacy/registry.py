"""The registry of personal data: each domain says what it holds about a user and how to
export and delete it. Account deletion, export and the privacy audit walk this one list.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Exporter = Callable[[Any, str], Awaitable[dict[str, Any]]]
Deleter = Callable[[Any, str], Awaitable[int]]


@dataclass(frozen=True)
class DataHolder:
    name: str
    description: str
    export: Exporter
    delete: Deleter
    order: int = 100
    """Deletion runs in ascending order. Holders that need the user document (to find data
    by email, say) run before `accounts`, which removes it last (order 1000)."""


_HOLDERS: dict[str, DataHolder] = {}


def register(holder: DataHolder) -> None:
    _HOLDERS[holder.name] = holder


def holders() -> list[DataHolder]:
    return sorted(_HOLDERS.values(), key=lambda holder: holder.order)


async def delete_user_data(ctx: Any, user_id: str) -> dict[str, int]:
    """Delete everything every domain holds about `user_id`; returns counts per holder."""
    return {holder.name: await holder.delete(ctx, user_id) for holder in holders()}


async def export_user_data(ctx: Any, user_id: str) -> dict[str, Any]:
    return {holder.name: await holder.export(ctx, user_id) for holder in holders()}
