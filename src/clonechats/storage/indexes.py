"""Index declarations, gathered in one place and applied idempotently at start-up.

Each domain's `repo.py` declares `INDEXES: list[Index]` beside the queries that need them;
the `indexes` of each domain in `domains.DOMAINS` list those modules. Only features both engines
support are used here: plain and compound keys and uniqueness (no TTL indexes: retention runs
as jobs).
"""

from dataclasses import dataclass, field
from typing import Any

from clonechats import domains


@dataclass(frozen=True)
class Index:
    collection: str
    keys: list[tuple[str, int]] = field(default_factory=list)
    unique: bool = False
    sparse: bool = False

    @property
    def name(self) -> str:
        return "_".join(f"{key}_{direction}" for key, direction in self.keys)


def declared_indexes() -> list[Index]:
    indexes: list[Index] = []
    for module in domains.index_modules():
        indexes.extend(module.INDEXES)
    return indexes


async def apply_indexes(db: Any, indexes: list[Index] | None = None) -> int:
    """Create every declared index. Re-running with the same declarations changes nothing."""
    declared = declared_indexes() if indexes is None else indexes
    for index in declared:
        await db[index.collection].create_index(
            index.keys, name=index.name, unique=index.unique, sparse=index.sparse
        )
    return len(declared)
