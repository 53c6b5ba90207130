"""Two embedded clients on one store (as `serve` and a worker process are): a lookup by `_id`
sees the other's writes at once, without the engine rebuilding its query index from the whole
collection, and other queries still see everything."""

from pathlib import Path

from litemongo import sqlite_store

from clonechats.storage.embedded import EmbeddedClient


async def test_lookups_by_id_see_the_other_clients_writes_without_a_full_read(
        tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "embedded.db"
    first, second = EmbeddedClient(path), EmbeddedClient(path)
    await first.open()
    await second.open()
    try:
        mine, theirs = first["app"]["things"], second["app"]["things"]
        await mine.insert_many([{"_id": f"t{n}", "n": n} for n in range(50)])
        assert await theirs.find_one({"n": 7}) is not None  # builds its query index

        full_reads = []
        original = sqlite_store.CollectionStore._iter_items
        monkeypatch.setattr(sqlite_store.CollectionStore, "_iter_items",
                            lambda store: full_reads.append(1) or original(store))
        await mine.insert_one({"_id": "new", "n": 100})
        await mine.update_one({"_id": "t3"}, {"$set": {"n": 33}})
        await mine.delete_one({"_id": "t4"})

        assert (await theirs.find_one({"_id": "new"}))["n"] == 100
        assert (await theirs.find_one({"_id": "t3", "n": 33})) is not None
        assert await theirs.find_one({"_id": "t3", "n": 3}) is None  # the rest still filters
        assert await theirs.find_one({"_id": "t4"}) is None
        claimed = await theirs.find_one_and_update({"_id": "t5", "n": 5}, {"$set": {"n": 55}})
        assert claimed["n"] == 5 and (await mine.find_one({"_id": "t5"}))["n"] == 55
        assert full_reads == []

        # A query by anything else still rebuilds the index and sees every write.
        assert (await theirs.find_one({"n": 100}))["_id"] == "new"
        assert await theirs.count_documents({"n": {"$gte": 0}}) == 50
        assert full_reads
    finally:
        await first.close()
        await second.close()
