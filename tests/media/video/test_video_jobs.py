"""Reply as video, through the API: the job's life, its clip, its price, and who sees it."""

import asyncio
import math

from tests.media.video.conftest import ask_video, parse_sse, persona_reply

REPLY = ["Hello there, my friend. ", "It is lovely to see you again today."]
CLIP_KEYS = {"id", "media_id", "url", "poster_url", "duration_s", "provider",
             "provider_job_id", "saved", "expires_at"}


async def test_a_reply_becomes_a_playable_clip(pro, bob, fake_llm, run_jobs):
    message = await persona_reply(pro, fake_llm, REPLY)
    before = await pro.balance()

    response = await ask_video(pro, message["id"])
    assert response.status_code == 202, response.text
    job = response.json()["job"]
    assert job["status"] == "queued" and job["progress"] == 0 and job["clip"] is None
    assert before == await pro.balance()  # nothing is charged before the clip exists

    await run_jobs()
    done = (await pro.client.get(f"/api/v1/video-jobs/{job['id']}")).json()["job"]
    assert done["status"] == "done" and done["progress"] == 1.0 and done["error"] is None
    clip = done["clip"]
    assert set(clip) == CLIP_KEYS
    assert clip["provider"] == "local" and clip["provider_job_id"].startswith("local-")
    assert clip["saved"] is False and clip["expires_at"]
    assert 1.0 < clip["duration_s"] <= 30

    video = await pro.client.get(clip["url"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    poster = await pro.client.get(clip["poster_url"])
    assert poster.headers["content-type"] == "image/jpeg"

    charged = before - await pro.balance()
    assert charged == math.ceil(clip["duration_s"])
    entry = await pro.ctx.db.credit_ledger.find_one({"_id": f"video:{job['id']}"})
    assert entry["delta"] == -charged

    listed = (await pro.client.get("/api/v1/clips", params={"kind": "video"})).json()["items"]
    assert [c["id"] for c in listed] == [clip["id"]]
    assert listed[0]["poster_url"] == clip["poster_url"]

    # Another user sees none of it.
    assert (await bob.client.get(f"/api/v1/video-jobs/{job['id']}")).status_code == 404
    assert (await bob.client.get(clip["url"])).status_code == 404
    assert (await bob.send("DELETE", f"/api/v1/video-jobs/{job['id']}")).status_code == 404
    assert (await ask_video(bob, message["id"])).status_code == 404


async def test_progress_streams_until_done(pro, fake_llm, run_jobs):
    message = await persona_reply(pro, fake_llm, REPLY)
    job = (await ask_video(pro, message["id"])).json()["job"]

    stream = asyncio.create_task(pro.client.get(f"/api/v1/video-jobs/{job['id']}/events"))
    await asyncio.sleep(0)
    await run_jobs()
    response = await asyncio.wait_for(stream, timeout=30)

    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert {name for name, _ in events} == {"progress"}
    states = [data["job"]["status"] for _, data in events]
    progress = [data["job"]["progress"] for _, data in events]
    assert states[0] == "queued" and states[-1] == "done"
    assert "rendering" in states
    assert progress == sorted(progress) and len(set(progress)) >= 3
    assert events[-1][1]["job"]["clip"]["url"].startswith("/media/")


async def test_the_chat_page_lists_each_messages_latest_video(pro, bob, fake_llm, run_jobs):
    message = await persona_reply(pro, fake_llm, REPLY)
    first = (await ask_video(pro, message["id"])).json()["job"]
    await pro.send("DELETE", f"/api/v1/video-jobs/{first['id']}")
    pro.ctx.clock.advance(seconds=30)
    second = (await ask_video(pro, message["id"])).json()["job"]
    await run_jobs()
    listed = (await pro.client.get("/api/v1/video-jobs", params={
        "conversation_id": message["conversation_id"]})).json()["items"]
    assert [(j["id"], j["message_id"], j["status"]) for j in listed] == [
        (second["id"], message["id"], "done")]
    assert listed[0]["clip"]["url"].startswith("/media/")
    others = (await bob.client.get("/api/v1/video-jobs", params={
        "conversation_id": message["conversation_id"]})).json()["items"]
    assert others == []
    page = await pro.client.get(f"/chat/{message['conversation_id']}")
    assert 'data-action="video"' in page.text and "video-reply.js" in page.text


async def test_the_voice_call_gets_the_personas_face_layout(pro, bob, fake_llm):
    message = await persona_reply(pro, fake_llm, REPLY)
    persona_id = (await pro.ctx.db.conversations.find_one(
        {"_id": message["conversation_id"]}))["persona_id"]
    face = (await pro.client.get(f"/api/v1/personas/{persona_id}/face")).json()["face"]
    assert face["image_url"].startswith("/media/")
    assert face["width"] == face["height"] == 400
    assert face["eyes"][0]["y"] < face["mouth"]["y"] < face["face"]["y"] + face["face"]["h"]
    assert (await bob.client.get(f"/api/v1/personas/{persona_id}/face")).status_code == 404
    bare = await pro.persona()
    assert (await pro.client.get(f"/api/v1/personas/{bare['_id']}/face")).json() == {
        "face": None}
    page = await pro.client.get(f"/chat/{message['conversation_id']}/call")
    assert "data-call-avatar" in page.text and "video-avatar.js" in page.text
