"""Video requests that cannot be served get a clear 4xx and queue nothing: no face, a tiny or
broken image, the user's own message, another user's, the plan's minutes, the credits, a job
already running."""

import asyncio

import pytest

from tests.factories import log_in
from tests.media.video.conftest import ask_video, persona_reply, set_plan
from tests.video_samples import face_image, landscape_image

REPLY = ["A short reply."]


async def nothing_queued(ctx) -> None:
    assert await ctx.db.video_jobs.count_documents({}) == 0
    assert await ctx.db.jobs.count_documents({"kind": "video.render"}) == 0


async def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code
    assert body["message"]
    return body["message"]


async def test_a_persona_without_an_image(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY, avatar=False)
    text = await _error(await ask_video(pro, message["id"]), 422, "no_face_image")
    assert "avatar or reference image" in text
    await nothing_queued(pro.ctx)


async def test_an_image_without_a_face(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY, image=landscape_image())
    await _error(await ask_video(pro, message["id"]), 422, "no_face_image")
    await nothing_queued(pro.ctx)


async def test_a_reference_image_with_a_face_stands_in_for_a_faceless_avatar(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY, image=landscape_image())
    persona_id = (await pro.ctx.db.conversations.find_one(
        {"_id": message["conversation_id"]}))["persona_id"]
    response = await pro.send("POST", f"/api/v1/personas/{persona_id}/images",
                              files={"file": ("face.png", face_image(400), "image/png")})
    assert response.status_code == 201, response.text
    assert (await ask_video(pro, message["id"])).status_code == 202


async def test_a_tiny_image(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY, image=face_image(100))
    await _error(await ask_video(pro, message["id"]), 422, "image_too_small")
    await nothing_queued(pro.ctx)


async def test_a_file_that_is_not_an_image(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY)
    avatar = await pro.ctx.db.media.find_one({"kind": "avatar", "owner_id": pro.id})
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64 + b"not really a png"
    stored = await pro.ctx.media.put(broken, owner_id=pro.id, kind="avatar",
                                     allowed_types=frozenset({"image/png"}))
    await pro.ctx.db.media.update_one({"_id": avatar["_id"]}, {"$set": {"key": stored.key}})
    await _error(await ask_video(pro, message["id"]), 422, "invalid_image")
    await nothing_queued(pro.ctx)


async def test_the_users_own_message_and_unfinished_replies(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY)
    own = await pro.ctx.db.messages.find_one({"conversation_id": message["conversation_id"],
                                              "role": "user"})
    await _error(await ask_video(pro, own["_id"]), 422, "not_persona_message")
    await pro.ctx.db.messages.update_one({"_id": message["id"]}, {"$set": {"status": "blocked"}})
    await _error(await ask_video(pro, message["id"]), 422, "not_videoable")
    await pro.ctx.db.messages.update_one({"_id": message["id"]},
                                         {"$set": {"status": "streaming"}})
    await _error(await ask_video(pro, message["id"]), 422, "not_videoable")
    await _error(await ask_video(pro, "no-such-message"), 404, "message_not_found")
    await nothing_queued(pro.ctx)


async def test_another_users_message_is_not_found(pro, bob, fake_llm):
    message = await persona_reply(bob, fake_llm, REPLY)
    await set_plan(bob, "pro")
    await _error(await ask_video(pro, message["id"]), 404, "message_not_found")
    await nothing_queued(pro.ctx)


@pytest.mark.parametrize(("tier", "phrase"), [("free", "not part of your plan"),
                                              ("plus", "video minutes are left")])
async def test_the_plans_minutes_are_a_paywall(ann, fake_llm, tier, phrase):
    # Free has no video minutes here; Plus has 6 seconds, less than this reply needs.
    await set_plan(ann, tier)
    message = await persona_reply(ann, fake_llm, [
        "This reply is long enough to need more than six seconds of video. ",
        "It goes on for a while, sentence after sentence, so that saying it all ",
        "takes a good deal longer than the plan allows."])
    text = await _error(await ask_video(ann, message["id"]), 402, "video_quota_exceeded")
    assert phrase in text and "Upgrade" in text
    assert await ann.ctx.db.paywall_hits.count_documents({"feature": "video"}) == 1
    await nothing_queued(ann.ctx)


async def test_finished_videos_use_up_the_months_minutes(ann, fake_llm, run_jobs, settings):
    await set_plan(ann, "plus")
    first = await persona_reply(ann, fake_llm, ["Hi there."])
    assert (await ask_video(ann, first["id"])).status_code == 202
    await run_jobs()
    [done] = await ann.ctx.db.video_jobs.find({"status": "done"}).to_list()
    # The plan now allows one such clip a month, with half a second to spare.
    one_clip = max(done["duration_s"], done["estimated_s"])
    settings.video.monthly_minutes["plus"] = (one_clip + 0.5) / 60
    second = await persona_reply(ann, fake_llm, ["Hi there."])
    await _error(await ask_video(ann, second["id"]), 402, "video_quota_exceeded")
    ann.ctx.clock.advance(days=31)  # a new month (and a new session: the old one expired)
    assert (await log_in(ann.client, email=ann.user["email"])).status_code == 200
    assert (await ask_video(ann, second["id"])).status_code == 202


async def test_without_credits_for_the_video(pro, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY)
    await pro.ctx.db.users.update_one({"_id": pro.id}, {"$set": {"credits": 0}})
    await _error(await ask_video(pro, message["id"]), 402, "insufficient_credits")
    await nothing_queued(pro.ctx)


async def test_one_running_job_per_user(pro, fake_llm, run_jobs):
    first = await persona_reply(pro, fake_llm, REPLY)
    second = await persona_reply(pro, fake_llm, ["Another reply."])
    assert (await ask_video(pro, first["id"])).status_code == 202
    await _error(await ask_video(pro, second["id"]), 409, "video_job_running")
    await run_jobs()
    assert (await ask_video(pro, second["id"])).status_code == 202


async def test_simultaneous_requests_queue_exactly_one(pro, fake_llm):
    replies = [await persona_reply(pro, fake_llm, [f"Reply {n}."]) for n in range(4)]
    responses = await asyncio.gather(*(ask_video(pro, m["id"]) for m in replies))
    assert sorted(r.status_code for r in responses) == [202, 409, 409, 409]
    assert await pro.ctx.db.video_jobs.count_documents({}) == 1
