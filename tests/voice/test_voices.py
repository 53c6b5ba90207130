"""The voice list, a persona's voice field, previews, and voice data in export and deletion."""

from clonechats.privacy.registry import delete_user_data, export_user_data
from tests.voice.conftest import FAST_VOICE, PIPER_VOICE, reply_message


async def test_the_offline_catalog_has_english_spanish_french_and_hindi_voices(ann):
    response = await ann.client.get("/api/v1/voices")
    assert response.status_code == 200
    items = response.json()["items"]
    assert {"id", "provider", "label", "language", "kind"} <= set(items[0])
    english = [v for v in items if v["language"].startswith("en")]
    assert len(english) >= 3 and PIPER_VOICE in {v["id"] for v in english}
    assert {"es", "fr", "hi"} <= {v["language"] for v in items}
    assert {v["kind"] for v in items} == {"stock"}
    assert all(v["provider"] == "local" for v in items)


async def test_a_persona_picks_a_voice_and_rate(ann):
    persona = await ann.persona()
    path = f"/api/v1/personas/{persona['_id']}"
    chosen = await ann.send("PATCH", path, json={"voice": {"voice_id": "local:espeak-fr-f",
                                                          "rate": 1.25}})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["persona"]["voice"] == {"voice_id": "local:espeak-fr-f", "rate": 1.25}
    unknown = await ann.send("PATCH", path, json={"voice": {"voice_id": "local:nobody"}})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_voice"
    for rate in (0.4, 2.5):
        bad = await ann.send("PATCH", path, json={"voice": {"voice_id": FAST_VOICE,
                                                            "rate": rate}})
        assert bad.status_code == 422
    stored = await ann.ctx.db.personas.find_one({"_id": persona["_id"]})
    assert stored["voice"] == {"voice_id": "local:espeak-fr-f", "rate": 1.25}
    reset = await ann.send("PATCH", path, json={"voice": {"voice_id": ""}})
    assert reset.json()["persona"]["voice"] is None


async def test_the_persona_voice_speaks_its_replies(ann, fake_llm):
    persona = await ann.persona(voice={"voice_id": "local:espeak-es-f", "rate": 1.0})
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["Hola, ¿qué tal?"])
    message = (await ann.say(conversation["id"], "Hola", stream="false")).json()["message"]
    clip = (await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")).json()["clip"]
    assert clip["voice_id"] == "local:espeak-es-f" and clip["language"] == "es"


async def test_a_preview_is_audio_neither_stored_nor_charged(ann):
    before = await ann.balance()
    response = await ann.send("POST", "/api/v1/voices/preview",
                              json={"voice_id": "local:espeak-hi-m", "rate": 0.8})
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/ogg"
    assert response.content[:4] == b"OggS"
    assert await ann.balance() == before
    assert await ann.ctx.db.media.count_documents({}) == 0
    unknown = await ann.send("POST", "/api/v1/voices/preview", json={"voice_id": "x:y"})
    assert unknown.status_code == 422


async def test_clips_are_exported_and_deleted_with_the_account(ann, bob, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    clip = (await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")).json()["clip"]
    bob_message = await reply_message(bob, fake_llm, ["Hi Bob."])
    await bob.send("POST", f"/api/v1/messages/{bob_message['id']}/speech")

    exported = await export_user_data(ann.ctx, ann.id)
    assert [c["id"] for c in exported["clips"]["clips"]] == [clip["id"]]
    assert exported["clips"]["clips"][0]["text"] == "Hello there."
    assert clip["media_id"] in {m["id"] for m in exported["media"]["files"]}

    await delete_user_data(ann.ctx, ann.id)
    assert await ann.ctx.db.clips.count_documents({"owner_id": ann.id}) == 0
    assert await ann.ctx.db.media.count_documents({"owner_id": ann.id}) == 0
    assert not [k async for k in ann.ctx.media.keys("") if f"/{ann.id}/" in k]
    assert await ann.ctx.db.clips.count_documents({"owner_id": bob.id}) == 1
