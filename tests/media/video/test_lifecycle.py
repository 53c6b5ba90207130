"""A video job's life beyond the happy path: cancelled before or while it renders, a worker
that dies mid-way, retention of the clip, and the account's export and deletion."""

import math
from datetime import timedelta

from clonechats.jobs import repo as jobs_repo
from clonechats.media.video import rendering
from clonechats.media.video import repo as video_repo
from clonechats.privacy import registry, retention
from tests.media.video.conftest import ask_video, persona_reply

REPLY = ["Hello there, my friend. ", "It is lovely to see you again today."]


async def _job(member, fake_llm, chunks=REPLY):
    message = await persona_reply(member, fake_llm, chunks)
    response = await ask_video(member, message["id"])
    assert response.status_code == 202, response.text
    return response.json()["job"], message


async def _counts(ctx) -> tuple[int, int, int]:
    return (await ctx.db.clips.count_documents({"kind": "video"}),
            await ctx.db.media.count_documents({"kind": "video"}),
            await ctx.db.credit_ledger.count_documents({"_id": {"$regex": "^video:"}}))


async def test_cancel_a_queued_job(pro, fake_llm, run_jobs):
    job, _ = await _job(pro, fake_llm)
    before = await pro.balance()
    response = await pro.send("DELETE", f"/api/v1/video-jobs/{job['id']}")
    assert response.status_code == 200
    assert response.json()["job"]["status"] == "cancelled"
    await run_jobs()
    after = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert after["status"] == "cancelled" and after["clip"] is None
    assert await _counts(pro.ctx) == (0, 0, 0)
    assert await pro.balance() == before
    again = await pro.send("DELETE", f"/api/v1/video-jobs/{job['id']}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "video_job_finished"


async def test_cancel_while_rendering_stops_the_render(pro, fake_llm, run_jobs, monkeypatch):
    job, _ = await _job(pro, fake_llm, ["Hello there. " * 6, "And a little more to say. " * 4])
    seen: list[float] = []
    real = video_repo.set_progress

    async def progress_then_cancel(db, job_id, progress, *, now):
        seen.append(progress)
        if len(seen) == 2:  # the user presses Cancel while frames render
            response = await pro.send("DELETE", f"/api/v1/video-jobs/{job_id}")
            assert response.status_code == 200
        return await real(db, job_id, progress, now=now)

    monkeypatch.setattr(rendering.repo, "set_progress", progress_then_cancel)
    await run_jobs()

    stored = await pro.ctx.db.video_jobs.find_one({"_id": job["id"]})
    assert stored["status"] == "cancelled"
    assert max(seen) < 0.9  # the render stopped long before its last frame
    assert await _counts(pro.ctx) == (0, 0, 0)
    assert "active_slot" not in stored  # the user may ask for another at once


async def test_a_dead_workers_job_is_taken_over_and_makes_one_clip(pro, fake_llm, run_jobs):
    job, _ = await _job(pro, fake_llm)
    ctx = pro.ctx
    # only the render matters here: the reply's other background work (learning memories) goes
    await ctx.db.jobs.delete_many({"kind": {"$ne": "video.render"}})
    # A worker claims the job, starts rendering, and dies without a word.
    claimed = await jobs_repo.claim_next(ctx.db, owner="dead-worker", now=ctx.clock.now(),
                                         lease=timedelta(seconds=ctx.settings.jobs.lease_seconds))
    assert claimed["kind"] == "video.render"
    stored = await video_repo.get(ctx.db, job["id"])
    await video_repo.start_rendering(ctx.db, stored, now=ctx.clock.now())
    assert await run_jobs() == 0  # its lease still holds
    ctx.clock.advance(seconds=ctx.settings.jobs.lease_seconds + 1)
    assert await run_jobs() == 1

    done = await video_repo.get(ctx.db, job["id"])
    assert done["status"] == "done" and done["attempts"] == 2
    assert await _counts(ctx) == (1, 2, 1)  # one clip, its MP4 and poster, one charge


async def test_a_run_that_dies_after_storing_the_clip_is_not_stored_twice(pro, fake_llm,
                                                                          run_jobs, monkeypatch):
    job, _ = await _job(pro, fake_llm)
    real = rendering.repo.finish_done
    calls = []

    async def die_once(db, job_id, *, now):
        calls.append(job_id)
        if len(calls) == 1:
            raise ConnectionError("the worker lost its database connection")
        return await real(db, job_id, now=now)

    monkeypatch.setattr(rendering.repo, "finish_done", die_once)
    before = await pro.balance()
    await run_jobs()
    assert (await video_repo.get(pro.ctx.db, job["id"]))["status"] == "rendering"
    pro.ctx.clock.advance(seconds=5)  # past the runner's retry backoff
    await run_jobs()

    done = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert done["status"] == "done"
    assert await _counts(pro.ctx) == (1, 2, 1)
    assert before - await pro.balance() == math.ceil(done["clip"]["duration_s"])  # once


async def test_unsaved_clips_go_after_90_days_and_saved_ones_stay(pro, fake_llm, run_jobs):
    kept_job, _ = await _job(pro, fake_llm)
    await run_jobs()
    gone_job, _ = await _job(pro, fake_llm, ["Another reply to film."])
    await run_jobs()
    kept = (await pro.client.get(f"/api/v1/video-jobs/{kept_job['id']}")).json()["job"]["clip"]
    gone = (await pro.client.get(f"/api/v1/video-jobs/{gone_job['id']}")).json()["job"]["clip"]
    saved = await pro.send("PATCH", f"/api/v1/clips/{kept['id']}", json={"saved": True})
    assert saved.status_code == 200 and saved.json()["clip"]["saved"] is True
    files = [m["key"] for m in await pro.ctx.db.media.find({"kind": "video"}).to_list()]

    pro.ctx.clock.advance(days=89)
    await retention.apply_rules(pro.ctx)
    assert await pro.ctx.db.clips.count_documents({"kind": "video"}) == 2

    pro.ctx.clock.advance(days=2)
    await retention.apply_rules(pro.ctx)
    assert [c["_id"] for c in await pro.ctx.db.clips.find({"kind": "video"}).to_list()] == [
        kept["id"]]
    left = await pro.ctx.db.media.find({"kind": "video"}).to_list()
    assert {m["_id"] for m in left} == {kept["media_id"], kept["poster_url"].split("/")[-1]}
    for key in files:
        assert await pro.ctx.media.exists(key) is (key in {m["key"] for m in left})
    assert gone["id"] not in {c["_id"] for c in await pro.ctx.db.clips.find().to_list()}
    assert await pro.ctx.db.video_jobs.count_documents({}) == 0  # requests go at 90 days too


async def test_export_and_account_deletion_cover_video(pro, fake_llm, run_jobs):
    job, message = await _job(pro, fake_llm)
    await run_jobs()
    done = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    exported = await registry.export_user_data(pro.ctx, pro.id)
    [exported_job] = exported["video_jobs"]["video_jobs"]
    assert exported_job["id"] == job["id"] and exported_job["message_id"] == message["id"]
    assert exported_job["provider_job_id"] == done["clip"]["provider_job_id"]
    assert "provider_ref" not in exported_job
    assert done["clip"]["id"] in [c["id"] for c in exported["clips"]["clips"]]

    keys = [m["key"] for m in await pro.ctx.db.media.find({"kind": "video"}).to_list()]
    await registry.delete_user_data(pro.ctx, pro.id)
    assert await pro.ctx.db.video_jobs.count_documents({"owner_id": pro.id}) == 0
    assert await _counts(pro.ctx) == (0, 0, 1)  # the ledger keeps a pseudonymised record
    for key in keys:
        assert not await pro.ctx.media.exists(key)


async def test_a_job_abandoned_by_the_runner_does_not_hold_the_slot_forever(pro, fake_llm):
    job, _ = await _job(pro, fake_llm)
    other = await persona_reply(pro, fake_llm, ["Another reply."])
    await pro.ctx.db.jobs.update_many({"kind": "video.render"}, {"$set": {"status": "dead"}})
    assert (await ask_video(pro, other["id"])).status_code == 409
    pro.ctx.clock.advance(hours=2)
    assert (await ask_video(pro, other["id"])).status_code == 202
    stale = await pro.ctx.db.video_jobs.find_one({"_id": job["id"]})
    assert stale["status"] == "failed" and stale["error"]["code"] == "render_failed"


async def test_deleting_the_chat_deletes_its_videos(pro, fake_llm, run_jobs):
    done_job, message = await _job(pro, fake_llm)
    await run_jobs()
    response = await pro.send("DELETE", f"/api/v1/conversations/{message['conversation_id']}")
    assert response.status_code in (200, 204)
    assert await pro.ctx.db.video_jobs.count_documents({}) == 0
    assert await _counts(pro.ctx) == (0, 0, 1)  # clip and files gone; the charge stays
    assert (await pro.client.get(f"/api/v1/video-jobs/{done_job['id']}")).status_code == 404
