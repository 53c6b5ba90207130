"""Speech input: `POST /api/v1/speech/transcribe` with the local Whisper model, and bad input."""

import io
import wave

import numpy as np

from tests.media.samples import image_bytes, wav_bytes


def upload(data: bytes, name: str = "speech.wav"):
    return {"file": (name, data, "audio/wav")}


async def transcribe(member, data: bytes, **fields):
    return await member.send("POST", "/api/v1/speech/transcribe", files=upload(data),
                             data=fields)


def pcm_wav(samples: np.ndarray, *, rate: int, channels: int = 1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return out.getvalue()


async def test_speech_made_by_the_local_voice_comes_back_as_its_words(ann, spoken_wav):
    response = await transcribe(ann, spoken_wav)
    assert response.status_code == 200, response.text
    body = response.json()
    words = body["text"].lower().replace(",", "").replace(".", "").split()
    assert words == ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]
    assert body["language"] == "en"
    assert 2.0 < body["duration_s"] < 6.0


async def test_a_reply_spoken_by_the_persona_voice_transcribes_to_its_text(ann, fake_llm):
    from tests.voice.conftest import PIPER_VOICE, reply_message

    persona = await ann.persona(voice={"voice_id": PIPER_VOICE, "rate": 1.0})
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["I would love ", "to visit the ", "mountains this summer."])
    message = (await ann.say(conversation["id"], "Plans?", stream="false")).json()["message"]
    clip = (await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")).json()["clip"]
    assert clip["voice_id"] == PIPER_VOICE
    assert any(t["word"] == "mountains" for t in
               (await ann.client.get(f"/api/v1/clips/{clip['id']}")).json()["clip"]["timings"])
    audio = (await ann.client.get(clip["url"])).content
    response = await ann.send("POST", "/api/v1/speech/transcribe",
                              files={"file": ("reply.ogg", audio, "audio/ogg")})
    assert response.status_code == 200, response.text
    heard = response.json()["text"].lower().strip(" .")
    assert heard == "i would love to visit the mountains this summer"
    assert reply_message  # the helper is shared; this test builds its own persona


async def test_bad_recordings_get_a_clear_4xx_and_nothing_is_stored(ann):
    rate = 16_000
    silence = pcm_wav(np.zeros(rate * 2, np.int16), rate=rate)
    cases = {
        "empty": (b"", 422, "empty_audio"),
        "silent": (silence, 422, "no_speech"),
        "not audio": (image_bytes(), 415, "unsupported_media_type"),
        "text": (b"hello, this is not a recording" * 20, 415, "unsupported_media_type"),
        "truncated": (wav_bytes(1.0)[:30], 422, "invalid_audio"),
        "too long": (wav_bytes(61.0), 422, "audio_too_long"),
        "odd rate": (pcm_wav(np.zeros(4000, np.int16) + 500, rate=4000), 422,
                     "unsupported_audio_format"),
        "many channels": (pcm_wav(np.zeros(rate * 6, np.int16) + 500, rate=rate, channels=6),
                          422, "unsupported_audio_format"),
    }
    for label, (data, status, code) in cases.items():
        response = await transcribe(ann, data)
        assert response.status_code == status, (label, response.text)
        assert response.json()["error"]["code"] == code, label
        assert response.json()["error"]["message"], label
    assert await ann.ctx.db.media.count_documents({}) == 0
    assert not [key async for key in ann.ctx.media.keys("")]


async def test_too_large_and_unauthenticated_uploads_are_refused(ann, client, spoken_wav):
    ann.ctx.settings.speech.max_input_bytes = 1000
    response = await transcribe(ann, spoken_wav)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "media_too_large"
    bad_language = await transcribe(ann, spoken_wav[:500], language="english")
    assert bad_language.status_code == 422
    await ann.send("POST", "/api/v1/auth/logout")
    assert (await transcribe(ann, spoken_wav[:500])).status_code == 401


async def test_the_english_model_refuses_other_languages(ann, spoken_wav):
    response = await transcribe(ann, spoken_wav, language="es")
    if ann.ctx.speech.stt.multilingual:
        assert response.status_code == 200
    else:
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "language_unsupported"
