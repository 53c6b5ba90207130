"""Index declarations: gathered from the repos, applied at start-up, idempotent."""

from pathlib import Path
from typing import Any

import pytest

from clonechats.storage import DuplicateKeyError, Index, apply_indexes
from clonechats.storage.indexes import declared_indexes
from tests.conftest import make_settings

EXAMPLE = [
    Index("accounts", [("email", 1)], unique=True),
    Index("accounts", [("created_at", -1)]),
    Index("messages", [("conversation_id", 1), ("created_at", 1)]),
    Index("invites", [("code", 1)], unique=True, sparse=True),
]


def described(information: dict[str, Any]) -> dict[str, tuple[Any, bool, bool]]:
    """index name -> (keys, unique, sparse), ignoring engine-specific extras such as `v`."""
    return {
        name: ([tuple(key) for key in spec["key"]], bool(spec.get("unique")),
               bool(spec.get("sparse")))
        for name, spec in information.items()
    }


async def indexes_of(db: Any, collections: set[str]) -> dict[str, Any]:
    return {name: described(await db[name].index_information()) for name in sorted(collections)}


async def test_applying_twice_creates_each_index_once_and_changes_nothing(db: Any) -> None:
    assert await apply_indexes(db, EXAMPLE) == len(EXAMPLE)
    after_first = await indexes_of(db, {"accounts", "messages", "invites"})
    assert await apply_indexes(db, EXAMPLE) == len(EXAMPLE)
    after_second = await indexes_of(db, {"accounts", "messages", "invites"})

    assert after_second == after_first
    assert after_first["accounts"] == {
        "_id_": ([("_id", 1)], False, False),
        "email_1": ([("email", 1)], True, False),
        "created_at_-1": ([("created_at", -1)], False, False),
    }
    assert after_first["messages"]["conversation_id_1_created_at_1"] == (
        [("conversation_id", 1), ("created_at", 1)], False, False,
    )
    assert after_first["invites"]["code_1"] == ([("code", 1)], True, True)


async def test_applied_unique_index_is_enforced(db: Any) -> None:
    await apply_indexes(db, EXAMPLE)
    await db.accounts.insert_one({"_id": "a", "email": "ada@example.org"})
    with pytest.raises(DuplicateKeyError):
        await db.accounts.insert_one({"_id": "b", "email": "ada@example.org"})
    await db.invites.insert_many([{"_id": "i1"}, {"_id": "i2"}])  # sparse: no code is fine


async def test_every_declared_index_is_applied(db: Any) -> None:
    declared = declared_indexes()
    assert declared, "the repos declare at least the jobs indexes"
    assert len({(index.collection, index.name) for index in declared}) == len(declared)
    await apply_indexes(db)
    await apply_indexes(db)
    for index in declared:
        info = described(await db[index.collection].index_information())
        assert info[index.name] == (index.keys, index.unique, index.sparse)


async def test_start_up_applies_the_declared_indexes_on_every_start(tmp_path: Path) -> None:
    from clonechats.app import create_app

    settings = make_settings(tmp_path / "data")
    for _start in range(2):
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            db = app.state.ctx.db
            for index in declared_indexes():
                info = described(await db[index.collection].index_information())
                assert info[index.name] == (index.keys, index.unique, index.sparse)
