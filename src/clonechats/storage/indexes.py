"""Index declarations, gathered in one place and applied idempotently at start-up.

Each domain's `repo.py` declares `INDEXES: list[Index]` beside the queries that need them;
`INDEX_SOURCES` lists those modules. Only features both engines support are used here:
plain and compound keys and uniqueness (no TTL indexes: retention runs as jobs).
"""

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

INDEX_SOURCES = [
    "clonechats.jobs.repo",
    "clonechats.providers.email.outbox",
    "clonechats.accounts.repo",
    "clonechats.accounts.sessions",
    "clonechats.accounts.audit",
    "clonechats.accounts.throttle",
    "clonechats.accounts.tokens",
    "clonechats.accounts.api_keys",
    "clonechats.accounts.age",
    "clonechats.accounts.trials",
    "clonechats.accounts.google",
    "clonechats.billing.ledger",
    "clonechats.billing.orders",
    "clonechats.billing.subscriptions",
    "clonechats.billing.webhooks",
    "clonechats.providers.payments.sandbox",
    "clonechats.personas.repo",
    "clonechats.personas.favourites",
    "clonechats.personas.memory.repo",
    "clonechats.media.repo",
    "clonechats.safety.flags",
    "clonechats.telemetry.events",
    "clonechats.chat.repo",
    "clonechats.privacy.repo",
    "clonechats.telemetry.fold",
    "clonechats.rooms.repo",
    "clonechats.media.clips.repo",
    "clonechats.voice.clones",
    "clonechats.media.video.repo",
    "clonechats.chat.scheduled.repo",
    "clonechats.chat.idempotency",
]
INDEX_SOURCES += ["clonechats.telemetry.errors", "clonechats.telemetry.clips",
                  "clonechats.safety.rate_limits", "clonechats.safety.warnings",
                  "clonechats.contact.repo", "clonechats.accounts.two_factor_login"]


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
    for module_name in INDEX_SOURCES:
        indexes.extend(import_module(module_name).INDEXES)
    return indexes


async def apply_indexes(db: Any, indexes: list[Index] | None = None) -> int:
    """Create every declared index. Re-running with the same declarations changes nothing."""
    declared = declared_indexes() if indexes is None else indexes
    for index in declared:
        await db[index.collection].create_index(
            index.keys, name=index.name, unique=index.unique, sparse=index.sparse
        )
    return len(declared)
