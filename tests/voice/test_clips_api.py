"""Play on a persona message: the clip, its file, its price, its owner, and the clips API."""

from clonechats.privacy import retention
from tests.voice.conftest import FAST_VOICE, reply_message


async def speak(member, message_id):
    return await member.send("POST", f"/api/v1/messages/{message_id}/speech")


async def test_play_makes_a_charged_clip_served_to_its_owner_only(ann, bob, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there, my friend. ", "How are you?"])
    before = await ann.balance()
    response = await speak(ann, message["id"])
    assert response.status_code == 201, response.text
    clip = response.json()["clip"]
    assert clip["saved"] is False and clip["provider"] == "local"
    assert clip["language"] == "en-US" and clip["expires_at"]
    assert 1.0 < clip["duration_s"] < 10.0
    assert clip["url"] == f"/media/{clip['media_id']}"
    charged = before - await ann.balance()
    assert charged == -(-clip["duration_s"] // 1)  # 1 credit per started second
    entry = await ann.ctx.db.credit_ledger.find_one({"_id": f"speech:{clip['id']}"})
    assert entry["delta"] == -charged

    audio = await ann.client.get(clip["url"])
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/ogg"
    assert audio.content[:4] == b"OggS"
    assert (await bob.client.get(clip["url"])).status_code == 404
    assert (await bob.send("POST", f"/api/v1/messages/{message['id']}/speech")
            ).status_code == 404

    again = await speak(ann, message["id"])
    assert again.status_code == 201 and again.json()["clip"]["id"] == clip["id"]
    assert again.json()["reused"] is True
    assert before - await ann.balance() == charged  # the same clip is not charged twice


async def test_an_edited_or_continued_reply_is_spoken_anew(ann, fake_llm, clock):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    path = f"/api/v1/conversations/{message['conversation_id']}/messages/{message['id']}"
    first = (await speak(ann, message["id"])).json()["clip"]
    clock.advance(seconds=1)
    await ann.send("PATCH", path, json={"text": "Goodbye for now."})

    edited = await speak(ann, message["id"])

    assert edited.status_code == 201 and edited.json()["reused"] is False
    assert edited.json()["clip"]["id"] != first["id"]
    assert (await speak(ann, message["id"])).json()["reused"] is True
    clock.advance(seconds=1)
    await ann.ctx.db.messages.update_one({"_id": message["id"]},
                                         {"$set": {"finish_reason": "length"}})
    fake_llm.enqueue([" See you."])
    continued = await ann.send("POST", f"{path}/continue", params={"stream": "false"})
    assert continued.status_code == 201, continued.text
    assert (await speak(ann, message["id"])).json()["reused"] is False


async def test_only_finished_persona_replies_can_be_played(ann, fake_llm):
    message = await reply_message(ann, fake_llm, ["Fine, thanks."])
    messages = await ann.ctx.db.messages.find({"conversation_id": message["conversation_id"]}
                                              ).to_list()
    user_message = next(m for m in messages if m["role"] == "user")
    response = await speak(ann, user_message["_id"])
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_speakable"
    await ann.ctx.db.messages.update_one({"_id": message["id"]}, {"$set": {"status": "blocked"}})
    assert (await speak(ann, message["id"])).json()["error"]["code"] == "not_speakable"
    assert (await speak(ann, "no-such-message")).status_code == 404
    assert await ann.ctx.db.clips.count_documents({}) == 0


async def test_without_credits_nothing_is_stored(ann, fake_llm):
    message = await reply_message(ann, fake_llm, ["A long enough reply to cost credits."])
    await ann.ctx.db.users.update_one({"_id": ann.id}, {"$set": {"credits": 0}})
    response = await speak(ann, message["id"])
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_credits"
    assert await ann.ctx.db.clips.count_documents({}) == 0
    assert await ann.ctx.db.media.count_documents({}) == 0


async def test_provider_failure_keeps_the_text_and_charges_nothing(ann, fake_llm):
    from clonechats.providers.errors import ProviderUnavailable

    message = await reply_message(ann, fake_llm, ["Hello there."])
    provider, _ = ann.ctx.speech.resolve(FAST_VOICE)

    async def down(*args, **kwargs):
        raise ProviderUnavailable("engine down", provider="local")

    before = await ann.balance()
    original = provider.synthesize
    provider.synthesize = down
    try:
        response = await speak(ann, message["id"])
    finally:
        provider.synthesize = original
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "speech_unavailable"
    assert await ann.balance() == before
    assert await ann.ctx.db.clips.count_documents({}) == 0


async def test_clips_are_listed_saved_and_deleted_by_their_owner(ann, bob, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    clip = (await speak(ann, message["id"])).json()["clip"]
    listed = await ann.client.get("/api/v1/clips")
    assert [c["id"] for c in listed.json()["items"]] == [clip["id"]]
    assert listed.json()["next_cursor"] is None
    assert (await bob.client.get("/api/v1/clips")).json()["items"] == []
    assert (await bob.send("PATCH", f"/api/v1/clips/{clip['id']}",
                           json={"saved": True})).status_code == 404
    assert (await bob.send("DELETE", f"/api/v1/clips/{clip['id']}")).status_code == 404
    bad = await ann.send("PATCH", f"/api/v1/clips/{clip['id']}", json={"saved": "maybe"})
    assert bad.status_code == 422

    saved = await ann.send("PATCH", f"/api/v1/clips/{clip['id']}", json={"saved": True})
    assert saved.status_code == 200
    assert saved.json()["clip"]["saved"] is True and saved.json()["clip"]["expires_at"] is None
    media = await ann.ctx.db.media.find_one({"_id": clip["media_id"]})
    assert media["saved"] is True and media["kind"] == "voice_clip"

    deleted = await ann.send("DELETE", f"/api/v1/clips/{clip['id']}")
    assert deleted.status_code == 204
    assert await ann.ctx.db.clips.count_documents({}) == 0
    assert await ann.ctx.db.media.count_documents({}) == 0
    assert not [key async for key in ann.ctx.media.keys("")]
    assert (await ann.client.get(clip["url"])).status_code == 404


async def test_unsaved_clips_go_after_90_days_and_saved_ones_stay(ann, fake_llm, clock):
    first = await reply_message(ann, fake_llm, ["Hello there."])
    second = await reply_message(ann, fake_llm, ["Goodbye now."])
    dropped = (await speak(ann, first["id"])).json()["clip"]
    kept = (await speak(ann, second["id"])).json()["clip"]
    await ann.send("PATCH", f"/api/v1/clips/{kept['id']}", json={"saved": True})
    dropped_key = (await ann.ctx.db.media.find_one({"_id": dropped["media_id"]}))["key"]

    clock.advance(days=89)
    await retention.apply_rules(ann.ctx)
    assert await ann.ctx.db.clips.count_documents({}) == 2

    clock.advance(days=2)
    counts = await retention.apply_rules(ann.ctx)
    assert counts["generated_media"] == 1
    assert [c["_id"] for c in await ann.ctx.db.clips.find().to_list()] == [kept["id"]]
    assert await ann.ctx.db.media.find_one({"_id": dropped["media_id"]}) is None
    assert not await ann.ctx.media.exists(dropped_key)
    kept_media = await ann.ctx.db.media.find_one({"_id": kept["media_id"]})
    assert await ann.ctx.media.exists(kept_media["key"])


async def test_deleting_a_chat_deletes_its_clips(ann, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    clip = (await speak(ann, message["id"])).json()["clip"]
    await ann.send("PATCH", f"/api/v1/clips/{clip['id']}", json={"saved": True})
    other = await reply_message(ann, fake_llm, ["Another chat."])
    kept = (await speak(ann, other["id"])).json()["clip"]
    response = await ann.send("DELETE", f"/api/v1/conversations/{message['conversation_id']}")
    assert response.status_code == 204
    assert [c["_id"] for c in await ann.ctx.db.clips.find().to_list()] == [kept["id"]]
    assert await ann.ctx.db.media.find_one({"_id": clip["media_id"]}) is None
