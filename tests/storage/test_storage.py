"""The database API the app relies on, on the embedded engine and (when configured) MongoDB.

Every case here must pass on both engines: code elsewhere may use only what these cases show.
"""

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import ReturnDocument

from clonechats.storage import Connection, DuplicateKeyError, connect


async def test_each_engine_reports_its_name(connection: Connection) -> None:
    assert connection.engine in {"embedded", "mongodb"}
    assert await connection.db.people.find_one({}) is None


async def test_create_read_update_delete(db: Any) -> None:
    await db.people.insert_one({"_id": "p1", "name": "Ada", "tags": ["math"], "visits": 0})
    await db.people.insert_many([
        {"_id": "p2", "name": "Grace", "tags": ["navy", "code"], "visits": 3},
        {"_id": "p3", "name": "Alan", "tags": ["code"], "visits": 1},
    ])

    assert await db.people.find_one({"_id": "p1"}) == {
        "_id": "p1", "name": "Ada", "tags": ["math"], "visits": 0,
    }
    assert await db.people.count_documents({}) == 3
    assert await db.people.count_documents({"tags": "code"}) == 2

    result = await db.people.update_one(
        {"_id": "p1"}, {"$set": {"name": "Ada L."}, "$inc": {"visits": 2}, "$push": {"tags": "x"}}
    )
    assert (result.matched_count, result.modified_count) == (1, 1)
    updated = await db.people.find_one({"_id": "p1"}, {"_id": 0, "name": 1, "visits": 1})
    assert updated == {"name": "Ada L.", "visits": 2}

    missing = await db.people.update_one({"_id": "nobody"}, {"$set": {"name": "x"}})
    assert (missing.matched_count, missing.modified_count) == (0, 0)

    many = await db.people.update_many({"tags": "code"}, {"$inc": {"visits": 10}})
    assert many.modified_count == 2
    assert sorted(await db.people.distinct("visits", {"tags": "code"})) == [11, 13]

    await db.people.replace_one({"_id": "p3"}, {"name": "Alan T."})
    assert await db.people.find_one({"_id": "p3"}) == {"_id": "p3", "name": "Alan T."}

    deleted = await db.people.delete_one({"_id": "p2"})
    assert deleted.deleted_count == 1
    assert await db.people.find_one({"_id": "p2"}) is None
    assert (await db.people.delete_many({})).deleted_count == 2
    assert await db.people.count_documents({}) == 0


async def test_generated_ids_are_returned_and_findable(db: Any) -> None:
    result = await db.notes.insert_one({"text": "hello"})
    assert result.inserted_id is not None
    assert (await db.notes.find_one({"_id": result.inserted_id}))["text"] == "hello"


async def test_unique_index_violation_raises_duplicate_key_and_keeps_the_first(db: Any) -> None:
    await db.users.create_index([("email", 1)], unique=True, name="email_1")
    await db.users.insert_one({"_id": "u1", "email": "ada@example.org"})

    with pytest.raises(DuplicateKeyError):
        await db.users.insert_one({"_id": "u2", "email": "ada@example.org"})
    with pytest.raises(DuplicateKeyError):  # the same _id twice
        await db.users.insert_one({"_id": "u1", "email": "other@example.org"})

    await db.users.insert_one({"_id": "u3", "email": "grace@example.org"})
    with pytest.raises(DuplicateKeyError):
        await db.users.update_one({"_id": "u3"}, {"$set": {"email": "ada@example.org"}})

    assert await db.users.count_documents({}) == 2
    assert (await db.users.find_one({"_id": "u1"}))["email"] == "ada@example.org"
    assert (await db.users.find_one({"_id": "u3"}))["email"] == "grace@example.org"


async def test_sparse_unique_index_allows_many_documents_without_the_field(db: Any) -> None:
    await db.jobs_like.create_index([("key", 1)], unique=True, sparse=True, name="key_1")
    await db.jobs_like.insert_many([{"_id": "a"}, {"_id": "b"}, {"_id": "c", "key": "k"}])
    with pytest.raises(DuplicateKeyError):
        await db.jobs_like.insert_one({"_id": "d", "key": "k"})
    assert await db.jobs_like.count_documents({}) == 3


async def test_conditional_update_is_atomic_under_concurrency(db: Any) -> None:
    """Thirty concurrent debits of 10 against a balance of 100: exactly ten succeed."""
    await db.wallets.insert_one({"_id": "w", "balance": 100})

    async def debit() -> dict[str, Any] | None:
        return await db.wallets.find_one_and_update(
            {"_id": "w", "balance": {"$gte": 10}},
            {"$inc": {"balance": -10}},
            return_document=ReturnDocument.AFTER,
        )

    results = await asyncio.gather(*(debit() for _ in range(30)))
    succeeded = [r for r in results if r is not None]
    assert len(succeeded) == 10
    assert sorted(r["balance"] for r in succeeded) == list(range(0, 100, 10))
    assert (await db.wallets.find_one({"_id": "w"}))["balance"] == 0


async def test_find_one_and_update_returns_before_or_after(db: Any) -> None:
    await db.counters.insert_one({"_id": "c", "n": 1})
    before = await db.counters.find_one_and_update({"_id": "c"}, {"$inc": {"n": 1}})
    after = await db.counters.find_one_and_update(
        {"_id": "c"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER
    )
    assert (before["n"], after["n"]) == (1, 3)
    assert await db.counters.find_one_and_update({"_id": "none"}, {"$inc": {"n": 1}}) is None
    removed = await db.counters.find_one_and_delete({"_id": "c"})
    assert removed["n"] == 3
    assert await db.counters.count_documents({}) == 0


async def test_sort_skip_limit(db: Any) -> None:
    order = [5, 2, 9, 0, 7, 3, 8, 1, 6, 4]
    await db.items.insert_many(
        [{"_id": f"i{n}", "n": n, "group": "even" if n % 2 == 0 else "odd"} for n in order]
    )

    page = await db.items.find({}).sort("n", -1).skip(2).limit(3).to_list()
    assert [doc["n"] for doc in page] == [7, 6, 5]

    ascending = await db.items.find({"n": {"$gte": 4}}).sort([("n", 1)]).limit(2).to_list()
    assert [doc["n"] for doc in ascending] == [4, 5]

    compound = await db.items.find({}, {"_id": 0, "n": 1}).sort(
        [("group", 1), ("n", -1)]
    ).limit(6).to_list()
    assert [doc["n"] for doc in compound] == [8, 6, 4, 2, 0, 9]
    assert all(set(doc) == {"n"} for doc in compound)

    past_the_end = await db.items.find({}).sort("n", 1).skip(20).to_list()
    assert past_the_end == []
    assert [doc["n"] async for doc in db.items.find({"n": {"$lt": 3}}).sort("n", 1)] == [0, 1, 2]


async def test_aggregate_with_match_group_and_sort(db: Any) -> None:
    await db.orders.insert_many([
        {"_id": "o1", "user_id": "u1", "amount": 5, "status": "paid"},
        {"_id": "o2", "user_id": "u1", "amount": 7, "status": "paid"},
        {"_id": "o3", "user_id": "u2", "amount": 4, "status": "paid"},
        {"_id": "o4", "user_id": "u2", "amount": 100, "status": "failed"},
        {"_id": "o5", "user_id": "u3", "amount": 1, "status": "paid"},
    ])
    cursor = await db.orders.aggregate([
        {"$match": {"status": "paid"}},
        {"$group": {"_id": "$user_id", "total": {"$sum": "$amount"}, "orders": {"$sum": 1},
                    "largest": {"$max": "$amount"}}},
        {"$sort": {"total": -1}},
    ])
    assert await cursor.to_list() == [
        {"_id": "u1", "total": 12, "orders": 2, "largest": 7},
        {"_id": "u2", "total": 4, "orders": 1, "largest": 4},
        {"_id": "u3", "total": 1, "orders": 1, "largest": 1},
    ]

    everything = await db.orders.aggregate([{"$group": {"_id": None, "n": {"$sum": 1}}}])
    assert [row["n"] async for row in everything] == [5]


async def test_upsert_inserts_once_then_updates(db: Any) -> None:
    first = await db.grants.update_one(
        {"_id": "u1:2026-03"}, {"$setOnInsert": {"credits": 100}, "$inc": {"seen": 1}},
        upsert=True,
    )
    assert first.upserted_id == "u1:2026-03"
    second = await db.grants.update_one(
        {"_id": "u1:2026-03"}, {"$setOnInsert": {"credits": 999}, "$inc": {"seen": 1}},
        upsert=True,
    )
    assert second.upserted_id is None
    assert second.matched_count == 1
    assert await db.grants.find_one({"_id": "u1:2026-03"}) == {
        "_id": "u1:2026-03", "credits": 100, "seen": 2,
    }

    created = await db.grants.find_one_and_update(
        {"user_id": "u2", "month": "2026-03"}, {"$set": {"credits": 50}},
        upsert=True, return_document=ReturnDocument.AFTER,
    )
    assert (created["user_id"], created["month"], created["credits"]) == ("u2", "2026-03", 50)
    assert await db.grants.count_documents({}) == 2


async def test_datetimes_come_back_as_utc_at_millisecond_precision(db: Any) -> None:
    """Both engines store BSON datetimes: UTC, milliseconds. Callers must not rely on micros."""
    moment = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    await db.events.insert_one({"_id": "e", "at": moment})
    stored = (await db.events.find_one({"_id": "e"}))["at"]
    assert stored.utcoffset().total_seconds() == 0
    assert stored == moment.replace(microsecond=123000)
    assert await db.events.count_documents({"at": {"$lt": moment.replace(second=16)}}) == 1


async def test_list_and_drop_collections(db: Any) -> None:
    await db.first.insert_one({"_id": 1})
    await db.second.insert_one({"_id": 1})
    assert {"first", "second"} <= set(await db.list_collection_names())
    await db.drop_collection("first")
    assert "first" not in await db.list_collection_names()
    assert await db.first.count_documents({}) == 0


@pytest.mark.parametrize("url", ["postgres://db/x", "sqlite:///x.db", "redis://cache"])
async def test_unknown_database_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="database_url"):
        await connect(url, data_dir=tmp_path)
    assert not (tmp_path / "embedded.db").exists()
