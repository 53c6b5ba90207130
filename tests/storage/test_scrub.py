"""Deleted documents leave no readable trace in the embedded engine's files."""

from pathlib import Path

from clonechats.storage import connect

SECRET_TEXT = "unmistakable-deleted-marker-7f3a"


def files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_deleted_documents_are_gone_from_the_files(tmp_path):
    connection = await connect(None, data_dir=tmp_path)
    try:
        await connection.db.notes.insert_many(
            [{"_id": str(i), "text": f"{SECRET_TEXT} {i}"} for i in range(50)])
        await connection.db.notes.insert_one({"_id": "keep", "text": "ordinary"})
        assert files_containing(tmp_path, SECRET_TEXT.encode())
        await connection.db.notes.delete_many({"text": {"$regex": SECRET_TEXT}})
        await connection.scrub()
        assert files_containing(tmp_path, SECRET_TEXT.encode()) == []
        assert await connection.db.notes.find_one({"_id": "keep"}) is not None
    finally:
        await connection.close()
