"""The orphan-media sweep, on the local store and on S3 (moto's S3 API on loopback): a file no
document names is deleted once it has stayed unrecorded for the grace period; a recorded file,
and a fresh unrecorded one (an upload whose document is not written yet), are kept."""

import logging
from pathlib import Path
from typing import Any

import pytest

from clonechats.jobs import repo as jobs_repo
from clonechats.jobs.service import next_daily_run
from clonechats.media import orphans
from clonechats.media import repo as media_repo
from clonechats.settings import Settings
from tests import s3_server
from tests.conftest import make_settings
from tests.media.test_store import make_png

GRACE_HOURS = 24


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    media: dict[str, Any] = {"orphan_grace_hours": GRACE_HOURS}
    if request.param == "s3":
        return make_settings(tmp_path / "data", media=s3_server.media_settings(
            s3_server.new_bucket(), s3_prefix="cc/", orphan_grace_hours=GRACE_HOURS))
    return make_settings(tmp_path / "data", media=media)


async def store_file(ctx: Any, *, recorded: bool) -> str:
    stored = await ctx.media.put(make_png(), owner_id="owner1", kind="avatar")
    if recorded:
        await media_repo.insert(ctx.db, media_repo.new_media(
            owner_id="owner1", persona_id=None, kind="avatar", key=stored.key,
            content_type=stored.content_type, size_bytes=stored.size_bytes,
            sha256=stored.sha256, now=ctx.clock.now()))
    return stored.key


async def stored_keys(ctx: Any) -> set[str]:
    return {key async for key in ctx.media.keys("")}


async def test_an_unrecorded_file_goes_only_after_the_grace_period(ctx: Any) -> None:
    kept = await store_file(ctx, recorded=True)
    orphan = await store_file(ctx, recorded=False)

    first = await orphans.sweep(ctx)
    assert (first.checked, first.deleted, first.waiting) == (2, 0, 1)
    assert await stored_keys(ctx) == {kept, orphan}

    ctx.clock.advance(hours=GRACE_HOURS - 1)
    assert (await orphans.sweep(ctx)).deleted == 0
    assert await stored_keys(ctx) == {kept, orphan}

    ctx.clock.advance(hours=1)
    assert (await orphans.sweep(ctx)).deleted == 1
    assert await stored_keys(ctx) == {kept}
    assert await ctx.db[orphans.ORPHANS].count_documents({}) == 0


async def test_a_fresh_unrecorded_file_is_kept_until_it_has_waited_itself(ctx: Any) -> None:
    await orphans.sweep(ctx)
    ctx.clock.advance(hours=GRACE_HOURS + 1)
    fresh = await store_file(ctx, recorded=False)

    assert (await orphans.sweep(ctx)).deleted == 0
    assert fresh in await stored_keys(ctx)


async def test_a_file_whose_document_arrives_later_is_kept(ctx: Any) -> None:
    stored = await ctx.media.put(make_png(), owner_id="owner1", kind="avatar")
    await orphans.sweep(ctx)
    await media_repo.insert(ctx.db, media_repo.new_media(
        owner_id="owner1", persona_id=None, kind="avatar", key=stored.key,
        content_type=stored.content_type, size_bytes=stored.size_bytes, sha256=stored.sha256,
        now=ctx.clock.now()))

    ctx.clock.advance(hours=GRACE_HOURS * 3)
    assert (await orphans.sweep(ctx)).deleted == 0
    assert stored.key in await stored_keys(ctx)
    assert await ctx.db[orphans.ORPHANS].count_documents({}) == 0


async def test_the_note_of_a_file_deleted_meanwhile_is_dropped(ctx: Any) -> None:
    orphan = await store_file(ctx, recorded=False)
    await orphans.sweep(ctx)
    await ctx.media.delete(orphan)

    result = await orphans.sweep(ctx)
    assert (result.checked, result.deleted) == (0, 0)
    assert await ctx.db[orphans.ORPHANS].count_documents({}) == 0


async def sweep_jobs(ctx: Any) -> list[dict[str, Any]]:
    return await ctx.db[jobs_repo.COLLECTION].find({"kind": orphans.SWEEP_JOB,
                                                    "status": jobs_repo.QUEUED}).to_list()


async def test_the_daily_job_reschedules_itself_and_logs_counts_only(
        ctx: Any, run_jobs: Any, caplog: pytest.LogCaptureFixture) -> None:
    await orphans.seed(ctx)
    orphan = await store_file(ctx, recorded=False)

    caplog.set_level(logging.INFO, logger="clonechats.media.orphans")
    ctx.clock.advance(hours=GRACE_HOURS)
    await run_jobs()
    ctx.clock.advance(days=1)
    await run_jobs()

    assert orphan not in await stored_keys(ctx)
    swept = [r for r in caplog.records if r.getMessage() == "orphan media swept"]
    assert [r.deleted for r in swept] == [0, 1]  # type: ignore[attr-defined]
    assert not any(orphan in r.getMessage() or orphan in str(r.__dict__) for r in swept)
    [following] = await sweep_jobs(ctx)
    assert following["run_at"] == next_daily_run(ctx.clock.now(), orphans.RUN_AT)
