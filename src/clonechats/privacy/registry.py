"""The registry of personal data: each domain says what it holds about a user, where, and how
to export and delete it. Account deletion, export and the privacy audit walk this one list.

A holder names the collections whose documents belong to a user (`Owned`): which field holds
the owner's id, which other references must point at existing documents, and whether records
of deleted users stay under a pseudonym. The privacy audit reads these to find orphans (content
of users or personas that are gone) and payment records that still name a deleted user.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clonechats.context import Ctx


Exporter = Callable[[Any, str], Awaitable[dict[str, Any]]]
Deleter = Callable[[Any, str], Awaitable[int]]

USERS = "users"
PSEUDONYM_PREFIX = "pseudonym:"


@dataclass(frozen=True)
class Owned:
    """A collection whose documents belong to one user."""

    collection: str
    owner_field: str = "owner_id"
    parents: tuple[tuple[str, str], ...] = ()
    """(field, collection) pairs: when the field is set, that document must exist."""
    nullable_owner: bool = False
    """Documents may have no owner (e.g. failed sign-ins for unknown emails)."""
    pseudonymised: bool = False
    """Records of deleted users stay with a `pseudonym:` owner (payment records)."""


@dataclass(frozen=True)
class DataHolder:
    name: str
    description: str
    export: Exporter
    delete: Deleter
    order: int = 100
    """Deletion runs in ascending order. Holders that need the user document (to find data
    by email, say) run before `accounts`, which removes it last (order 1000)."""
    collections: tuple[Owned, ...] = ()


_HOLDERS: dict[str, DataHolder] = {}


def register(holder: DataHolder) -> None:
    _HOLDERS[holder.name] = holder


def holders() -> list[DataHolder]:
    return sorted(_HOLDERS.values(), key=lambda holder: holder.order)


def owned_collections() -> list[Owned]:
    return [owned for holder in holders() for owned in holder.collections]


def is_pseudonym(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PSEUDONYM_PREFIX)


async def delete_user_data(ctx: Ctx, user_id: str) -> dict[str, int]:
    """Delete everything every domain holds about `user_id`; returns counts per holder."""
    return {holder.name: await holder.delete(ctx, user_id) for holder in holders()}


async def export_user_data(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {holder.name: await holder.export(ctx, user_id) for holder in holders()}
