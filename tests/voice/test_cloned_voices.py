"""A persona's reference recording becomes its own voice where a cloning vendor is set up."""

from clonechats.privacy.registry import delete_user_data, export_user_data
from clonechats.providers.speech.elevenlabs import ElevenLabsSpeech
from clonechats.providers.speech.local import LocalSTT, LocalTTS
from clonechats.providers.speech.registry import SpeechRegistry
from tests.fakes.speech_vendors import ELEVENLABS_KEY, FakeElevenLabs
from tests.media.samples import wav_bytes
from tests.voice.conftest import FAST_VOICE, reply_message


def with_elevenlabs(ctx, fake: FakeElevenLabs) -> None:
    vendor = ElevenLabsSpeech(api_key=ELEVENLABS_KEY, http=fake.client(), base_url=fake.base_url,
                              stock_voices=[("stock-rachel", "Rachel")])
    ctx.speech = SpeechRegistry([LocalTTS(), vendor], LocalSTT(data_dir=ctx.settings.data_dir),
                                default_voice=FAST_VOICE)


async def test_offline_there_is_no_cloned_voice(ann):
    persona = await ann.persona()
    await ann.send("POST", f"/api/v1/personas/{persona['_id']}/voice",
                   files={"file": ("me.wav", wav_bytes(4.0), "audio/wav")})
    items = (await ann.client.get("/api/v1/voices")).json()["items"]
    assert all(v["kind"] == "stock" for v in items)
    refused = await ann.send("PATCH", f"/api/v1/personas/{persona['_id']}",
                             json={"voice": {"voice_id": f"elevenlabs:clone-{persona['_id']}"}})
    assert refused.status_code == 422


async def test_the_reference_voice_is_cloned_on_first_use(ann, bob, fake_llm):
    fake = FakeElevenLabs()
    with_elevenlabs(ann.ctx, fake)
    message = await reply_message(ann, fake_llm, ["Hello there."])
    conversation = await ann.ctx.db.conversations.find_one({"_id": message["conversation_id"]})
    persona_id = conversation["persona_id"]
    uploaded = await ann.send("POST", f"/api/v1/personas/{persona_id}/voice",
                              files={"file": ("me.wav", wav_bytes(4.0), "audio/wav")})
    assert uploaded.status_code == 201, uploaded.text

    items = (await ann.client.get("/api/v1/voices")).json()["items"]
    cloned = [v for v in items if v["kind"] == "cloned"]
    assert [v["id"] for v in cloned] == [f"elevenlabs:clone-{persona_id}"]
    assert "elevenlabs:stock-rachel" in {v["id"] for v in items}
    assert not [v for v in (await bob.client.get("/api/v1/voices")).json()["items"]
                if v["kind"] == "cloned"]
    stolen = await bob.send("PATCH", f"/api/v1/personas/{(await bob.persona())['_id']}",
                            json={"voice": {"voice_id": cloned[0]["id"]}})
    assert stolen.status_code == 422

    chosen = await ann.send("PATCH", f"/api/v1/personas/{persona_id}",
                            json={"voice": {"voice_id": cloned[0]["id"], "rate": 1.0}})
    assert chosen.status_code == 200, chosen.text
    clip = (await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")).json()["clip"]
    assert clip["provider"] == "elevenlabs" and clip["provider_job_id"].startswith("el_")
    added = [r for r in fake.history if r.path == "/v1/voices/add"]
    assert len(added) == 1 and added[0].files[0][2] == wav_bytes(4.0)
    clone = await ann.ctx.db.voice_clones.find_one({"persona_id": persona_id})
    assert fake.voices[clone["provider_voice_id"]] == "Ada"

    exported = await export_user_data(ann.ctx, ann.id)
    assert [c["provider_voice_id"] for c in exported["clips"]["cloned_voices"]] == [
        clone["provider_voice_id"]]
    await delete_user_data(ann.ctx, ann.id)
    assert clone["provider_voice_id"] not in fake.voices  # deleted at the vendor too
    assert await ann.ctx.db.voice_clones.count_documents({}) == 0


async def test_deleting_the_persona_deletes_its_cloned_voice(ann, fake_llm):
    fake = FakeElevenLabs()
    with_elevenlabs(ann.ctx, fake)
    message = await reply_message(ann, fake_llm, ["Hello there."])
    conversation = await ann.ctx.db.conversations.find_one({"_id": message["conversation_id"]})
    persona_id = conversation["persona_id"]
    await ann.send("POST", f"/api/v1/personas/{persona_id}/voice",
                   files={"file": ("me.wav", wav_bytes(4.0), "audio/wav")})
    await ann.send("PATCH", f"/api/v1/personas/{persona_id}",
                   json={"voice": {"voice_id": f"elevenlabs:clone-{persona_id}"}})
    await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")
    clone = await ann.ctx.db.voice_clones.find_one({"persona_id": persona_id})
    assert clone is not None
    assert (await ann.send("DELETE", f"/api/v1/personas/{persona_id}")).status_code in (200, 204)
    assert await ann.ctx.db.voice_clones.count_documents({}) == 0
    assert clone["provider_voice_id"] not in fake.voices
    assert await ann.ctx.db.clips.count_documents({}) == 0
