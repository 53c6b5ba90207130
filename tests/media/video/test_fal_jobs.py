"""Video jobs rendered by fal.ai (on the local fake of its queue API): submitted once, polled,
woken by verified webhooks, failed on a vendor error or a timeout, cancelled at the vendor."""

import pytest

from tests.chat.conftest import new_client
from tests.media.video.conftest import ask_video, persona_reply

REPLY = ["Hello there, my friend."]


@pytest.fixture
async def fal_side(app):
    """An anonymous client, as fal's webhook deliveries come: no cookies, no session."""
    async with new_client(app) as client:
        yield client


async def _submitted(member, fake_llm, run_jobs, fal):
    message = await persona_reply(member, fake_llm, REPLY)
    job = (await ask_video(member, message["id"])).json()["job"]
    await run_jobs()
    stored = await member.ctx.db.video_jobs.find_one({"_id": job["id"]})
    assert stored["status"] == "rendering"
    assert stored["provider_job_id"] in fal.requests
    return job, stored["provider_job_id"]


async def _deliver(client, fal, request_id, clock, **kwargs):
    body, headers = fal.webhook(request_id, timestamp=int(clock.now().timestamp()), **kwargs)
    return await client.post("/api/v1/webhooks/fal", content=body, headers=headers)


async def test_a_webhook_brings_the_clip_in(fal_side, pro, fake_llm, run_jobs, fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    [received] = fal.received
    assert received["fields"] == ["audio_url", "image_url", "prompt"]
    assert fal.requests[request_id]["webhook"] == "https://chat.example.com/api/v1/webhooks/fal"
    assert await run_jobs() == 0  # the next poll is 10 s away

    fal.start(request_id)
    fal.complete(request_id)
    response = await _deliver(fal_side, fal, request_id, clock)
    assert response.status_code == 200 and response.json()["accepted"] is True
    again = await _deliver(fal_side, fal, request_id, clock)  # fal redelivers
    assert again.status_code == 200
    assert await run_jobs() == 1  # one run for both deliveries

    done = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert done["status"] == "done"
    assert done["clip"]["provider"] == "fal"
    assert done["clip"]["provider_job_id"] == request_id
    assert len(fal.received) == 1  # submitted once
    video = await pro.client.get(done["clip"]["url"])
    assert video.content == fal.video


async def test_polling_finds_the_result_without_a_webhook(pro, fake_llm, run_jobs, fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    fal.start(request_id)
    clock.advance(seconds=10)
    await run_jobs()
    rendering = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert rendering["status"] == "rendering" and rendering["progress"] == 0.5
    fal.complete(request_id)
    clock.advance(seconds=10)
    await run_jobs()
    assert (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"][
        "status"] == "done"


async def test_forged_webhooks_are_refused_and_change_nothing(fal_side, pro, fake_llm,
                                                              run_jobs, fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    fal.complete(request_id)
    body, headers = fal.webhook(request_id, timestamp=int(clock.now().timestamp()))
    forged = body.replace(b'"OK"', b'"ERROR"')
    response = await fal_side.post("/api/v1/webhooks/fal", content=forged, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    stale = await _deliver(fal_side, fal, request_id, clock)
    clock.advance(minutes=10)
    replayed = await fal_side.post("/api/v1/webhooks/fal", content=body, headers=headers)
    assert stale.status_code == 200 and replayed.status_code == 401
    unknown = await _deliver(fal_side, fal, request_id, clock, user_id="someone-else")
    assert unknown.status_code == 401
    # Only the one genuine delivery queued a run; the forged ones queued nothing.
    assert await pro.ctx.db.jobs.count_documents({"kind": "video.render",
                                                  "status": "queued"}) == 2  # + the 10 s poll
    assert (await pro.ctx.db.video_jobs.find_one({"_id": job["id"]}))["status"] == "rendering"


async def test_a_vendor_failure_fails_the_job_uncharged(fal_side, pro, fake_llm, run_jobs,
                                                        fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    before = await pro.balance()
    fal.fail(request_id, "face not detected")
    await _deliver(fal_side, fal, request_id, clock)
    await run_jobs()
    failed = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert failed["status"] == "failed" and failed["clip"] is None
    assert failed["error"]["code"] == "provider_failed"
    assert "face not detected" in failed["error"]["message"]
    assert await pro.balance() == before
    assert await pro.ctx.db.clips.count_documents({}) == 0


async def test_a_render_that_never_finishes_times_out(pro, fake_llm, run_jobs, fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    for _ in range(130):  # 20 minutes of 10-second polls, and a little more
        clock.advance(seconds=10)
        await run_jobs()
    failed = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "provider_timeout"
    assert fal.history[-1].method == "PUT"  # asked fal to stop
    assert fal.requests[request_id]["state"] == "CANCELLED"


async def test_cancel_stops_the_render_at_fal(pro, fake_llm, run_jobs, fal, clock):
    job, request_id = await _submitted(pro, fake_llm, run_jobs, fal)
    response = await pro.send("DELETE", f"/api/v1/video-jobs/{job['id']}")
    assert response.status_code == 200 and response.json()["job"]["status"] == "cancelled"
    assert fal.requests[request_id]["state"] == "CANCELLED"
    clock.advance(seconds=10)
    await run_jobs()
    assert (await pro.ctx.db.video_jobs.find_one({"_id": job["id"]}))["status"] == "cancelled"


async def test_a_vendor_outage_at_submit_is_retried(pro, fake_llm, run_jobs, fal, clock):
    import httpx

    fal.enqueue_failure(httpx.ConnectError)
    message = await persona_reply(pro, fake_llm, REPLY)
    job = (await ask_video(pro, message["id"])).json()["job"]
    await run_jobs()
    assert (await pro.ctx.db.video_jobs.find_one({"_id": job["id"]}))["provider_job_id"] is None
    clock.advance(seconds=5)
    await run_jobs()
    assert (await pro.ctx.db.video_jobs.find_one({"_id": job["id"]}))["provider_job_id"]
