"""What a collection's owner lets the retention job do to it, declared beside its queries.

The module that owns a collection (see `COLLECTIONS` in each owner module) and keeps it under a
retention rule declares `EXPIRING = Expiring(NAME)` (a module owning several such collections
names one per collection). `privacy.retention_rules` refers to that object, never to the
collection's name, and the job uses only these three calls with the query a rule builds: read
the documents it matches (when the owner's own delete must run for each, e.g. media with its
file), count them (the audit's overdue check) and delete them. Like the index declarations, this
is the one generic code that touches collections other modules own.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Expiring:
    collection: str

    async def find(self, db: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
        return await db[self.collection].find(query).to_list()

    async def count(self, db: Any, query: dict[str, Any]) -> int:
        return await db[self.collection].count_documents(query)

    async def delete(self, db: Any, query: dict[str, Any]) -> int:
        return (await db[self.collection].delete_many(query)).deleted_count
