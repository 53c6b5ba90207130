"""`speak: true` on a send: audio events, one per sentence, while the reply streams."""

import asyncio

from clonechats.providers.errors import ProviderUnavailable
from clonechats.voice import synthesis
from tests.voice.conftest import FAST_VOICE, parse_sse


async def spoken_send(member, conversation_id, text="Hi!"):
    return await member.send("POST", f"/api/v1/conversations/{conversation_id}/messages",
                             json={"text": text, "speak": True})


async def new_chat(member):
    persona = await member.persona()
    return await member.conversation(persona["_id"])


async def test_each_sentence_is_spoken_in_order_before_the_reply_ends(ann, fake_llm,
                                                                      monkeypatch):
    conversation = await new_chat(ann)
    reply = fake_llm.enqueue(["Hello there, my good friend. ", "The weather is ",
                              "lovely today. ", "Shall we go for a walk?"], pause_after=3)
    before = await ann.balance()
    two_stored = asyncio.Event()
    stored = []
    real_store = synthesis.clips.store_clip

    async def counting(*args, **kwargs):
        clip = await real_store(*args, **kwargs)
        stored.append(clip)
        if len(stored) == 2:
            two_stored.set()
        return clip

    monkeypatch.setattr(synthesis.clips, "store_clip", counting)
    sending = asyncio.create_task(spoken_send(ann, conversation["id"]))
    await reply.paused.wait()
    await two_stored.wait()  # two sentences are audio while the reply is still paused
    streaming = await ann.ctx.db.messages.find_one({"role": "assistant"})
    assert streaming["status"] == "streaming"
    reply.resume.set()
    response = await sending
    assert response.status_code == 200
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    audio = [data for name, data in events if name == "audio"]
    assert [a["seq"] for a in audio] == [0, 1, 2]
    assert [a["text"] for a in audio] == ["Hello there, my good friend.",
                                          "The weather is lovely today.",
                                          "Shall we go for a walk?"]
    # the first two sentences were spoken before the last token arrived
    last_token = max(i for i, name in enumerate(names) if name == "token")
    assert names.index("audio") < last_token
    assert names[-1] == "done"
    done = events[-1][1]
    clips = await ann.ctx.db.clips.find({"message_id": done["message_id"]}).sort("seq", 1
                                                                                ).to_list()
    assert [c["_id"] for c in clips] == [a["clip_id"] for a in audio]
    assert all(a["url"] == f"/media/{c['media_id']}" for a, c in zip(audio, clips, strict=True))
    audio_credits = sum(c["credits_charged"] for c in clips)
    assert done["audio_credits_charged"] == audio_credits > 0
    assert done["balance"] == await ann.balance()
    assert before - await ann.balance() == done["credits_charged"] + audio_credits
    played = await ann.client.get(audio[0]["url"])
    assert played.headers["content-type"] == "audio/ogg"


async def test_without_speak_no_audio_is_made(ann, fake_llm):
    conversation = await new_chat(ann)
    fake_llm.enqueue(["Hello there, my friend. ", "How are you?"])
    response = await ann.say(conversation["id"], "Hi!")
    assert "audio" not in [name for name, _ in parse_sse(response.text)]
    assert await ann.ctx.db.clips.count_documents({}) == 0


async def test_a_speech_failure_keeps_the_text_reply(ann, fake_llm):
    conversation = await new_chat(ann)
    fake_llm.enqueue(["Hello there, my good friend. ", "How are you doing today?"])
    provider, _ = ann.ctx.speech.resolve(FAST_VOICE)

    async def down(*args, **kwargs):
        raise ProviderUnavailable("engine down", provider="local")

    provider.synthesize = down
    try:
        response = await spoken_send(ann, conversation["id"])
    finally:
        del provider.synthesize
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names.count("audio_error") == 1 and "audio" not in names
    error = next(data for name, data in events if name == "audio_error")
    assert error["code"] == "speech_unavailable"
    assert "text" in error["message"]
    assert names[-1] == "done" and events[-1][1]["audio_credits_charged"] == 0
    stored = await ann.ctx.db.messages.find_one({"_id": events[-1][1]["message_id"]})
    assert stored["text"] == "Hello there, my good friend. How are you doing today?"
    assert await ann.ctx.db.clips.count_documents({}) == 0


async def test_running_out_of_credits_stops_the_audio_not_the_reply(ann, fake_llm,
                                                                    monkeypatch):
    conversation = await new_chat(ann)
    reply = fake_llm.enqueue(["Hello there, my good friend. ", "How are you doing today?"],
                             pause_after=1)
    refused = asyncio.Event()
    real_charge = synthesis.metering.charge

    async def charge(*args, **kwargs):
        try:
            return await real_charge(*args, **kwargs)
        except Exception:
            refused.set()
            raise

    monkeypatch.setattr(synthesis.metering, "charge", charge)
    # the reply reserves all 8 credits while it streams: none are left for its audio
    await ann.ctx.db.users.update_one({"_id": ann.id}, {"$set": {"credits": 8}})
    sending = asyncio.create_task(spoken_send(ann, conversation["id"]))
    await reply.paused.wait()
    await refused.wait()
    reply.resume.set()
    response = await sending
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "done"
    assert "audio" not in names and names.count("audio_error") == 1
    error = next(data for name, data in events if name == "audio_error")
    assert error["code"] == "insufficient_credits"
    assert await ann.balance() == 8 - events[-1][1]["credits_charged"]
    assert await ann.ctx.db.clips.count_documents({}) == 0


async def test_a_reply_hidden_by_the_rules_keeps_no_audio(ann, fake_llm, moderator):
    conversation = await new_chat(ann)
    fake_llm.enqueue(["Hello there, my good friend. ", "You are FORBIDDEN to hear this."])
    response = await spoken_send(ann, conversation["id"])
    events = parse_sse(response.text)
    assert all("FORBIDDEN" not in data["text"] for name, data in events if name == "audio")
    assert events[-1][0] == "error" and events[-1][1]["code"] == "reply_blocked"
    assert await ann.ctx.db.clips.count_documents({}) == 0
    assert await ann.ctx.db.media.count_documents({}) == 0


async def test_a_sentence_breaking_the_rules_is_never_spoken(ann, fake_llm, moderator,
                                                             monkeypatch):
    from clonechats.voice import spoken_reply

    conversation = await new_chat(ann)
    fake_llm.enqueue(["You are FORBIDDEN to hear this. ", "And then all is fine again."])
    real_check = spoken_reply.screening.check_output
    checked = []

    async def check(ctx, text, **options):
        checked.append(text)
        return await real_check(ctx, text, **options)

    monkeypatch.setattr(spoken_reply.screening, "check_output", check)
    monkeypatch.setattr(moderator, "check", _blocks_only_sentences(moderator.check))
    response = await spoken_send(ann, conversation["id"])
    events = parse_sse(response.text)
    assert checked[0] == "You are FORBIDDEN to hear this."
    assert [name for name, _ in events if name in ("audio", "audio_error")] == ["audio_error"]
    assert events[-1][0] == "done"
    assert await ann.ctx.db.clips.count_documents({}) == 0


def _blocks_only_sentences(check):
    """The scripted moderator, but a whole reply passes (only a single sentence is flagged)."""
    async def wrapped(text):
        if text.count(".") > 1:
            return await check(text.replace("FORBIDDEN", "allowed"))
        return await check(text)
    return wrapped


async def test_an_edited_message_can_be_answered_aloud(ann, fake_llm):
    conversation = await new_chat(ann)
    fake_llm.enqueue(["First answer."])
    first = await ann.say(conversation["id"], "Hi!", stream="false")
    user_id = next(m["_id"] for m in await ann.ctx.db.messages.find({"role": "user"}).to_list())
    assert first.status_code == 201
    fake_llm.enqueue(["A better answer, spoken aloud."])
    response = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{user_id}/edit",
        json={"text": "Hello!", "speak": True})
    events = parse_sse(response.text)
    assert [d["text"] for n, d in events if n == "audio"] == ["A better answer, spoken aloud."]
