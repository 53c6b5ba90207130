"""The speech provider contract, run against every implementation.

TTS: the local engines for real (Piper with the packaged voice, espeak-ng), and the OpenAI and
ElevenLabs adapters against fakes of their HTTP APIs. STT: the local Whisper model for real and
the OpenAI adapter against its fake. Vendor failures become the shared `ProviderError`s, with
retries only where retrying can help.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.speech.base import STT_SAMPLE_RATE, SpeechInput, TTSProvider
from clonechats.providers.speech.elevenlabs import ElevenLabsSpeech
from clonechats.providers.speech.encoding import decode_to_pcm, wav_bytes
from clonechats.providers.speech.local import LocalSTT, LocalTTS
from clonechats.providers.speech.openai import OpenAISpeech
from tests.fakes.speech_vendors import (
    ELEVENLABS_KEY,
    OPENAI_KEY,
    FakeElevenLabs,
    FakeOpenAISpeech,
    FakeSpeechVendor,
)


@dataclass
class Harness:
    provider: Any
    voice_id: str
    fake: FakeSpeechVendor | None = None
    sleeps: list[float] = field(default_factory=list)


def vendor_harness(name: str) -> Harness:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    if name == "openai":
        fake = FakeOpenAISpeech()
        provider = OpenAISpeech(api_key=OPENAI_KEY, http=fake.client(), base_url=fake.base_url,
                                sleep=sleep, voice_names=["alloy"])
        return Harness(provider, "openai:alloy", fake, sleeps)
    fake = FakeElevenLabs()
    provider = ElevenLabsSpeech(api_key=ELEVENLABS_KEY, http=fake.client(),
                                base_url=fake.base_url, sleep=sleep,
                                stock_voices=[("stock-rachel", "Rachel")])
    return Harness(provider, "elevenlabs:stock-rachel", fake, sleeps)


def harness(name: str) -> Harness:
    if name == "local-piper":
        return Harness(LocalTTS(), "local:piper-joe")
    if name == "local-kokoro":
        return Harness(LocalTTS(), "local:kokoro-alpha-fr")
    if name == "local-espeak":
        return Harness(LocalTTS(), "local:espeak-fr-f")
    return vendor_harness(name)


def voice_of(provider: TTSProvider, voice_id: str):
    return next(v for v in provider.voices() if v.id == voice_id)


TTS = ["local-piper", "local-kokoro", "local-espeak", "openai", "elevenlabs"]
VENDORS = ["openai", "elevenlabs"]


@pytest.mark.parametrize("name", TTS)
async def test_synthesis_is_mono_pcm_of_the_voice(name):
    h = harness(name)
    voice = voice_of(h.provider, h.voice_id)
    assert voice.kind == "stock" and voice.label and voice.language
    result = await h.provider.synthesize("Bonjour, bienvenue chez nous.", voice=voice)
    assert result.samples.dtype == np.int16 and result.samples.ndim == 1
    assert result.sample_rate >= 16_000
    assert 0.5 < result.duration_s < 10
    assert float(np.abs(result.samples).max()) > 1000  # not silence
    assert result.voice_id == h.voice_id and result.provider == h.voice_id.split(":")[0]
    assert result.language == voice.language
    if h.fake is not None:
        assert result.provider_job_id  # the vendor's request id


@pytest.mark.parametrize("name", TTS)
async def test_a_slower_rate_speaks_longer(name):
    h = harness(name)
    voice = voice_of(h.provider, h.voice_id)
    text = "Take your time and speak slowly, please."
    normal = await h.provider.synthesize(text, voice=voice, rate=1.0)
    slow = await h.provider.synthesize(text, voice=voice, rate=0.7)
    assert slow.duration_s > normal.duration_s * 1.2


async def test_piper_reports_phoneme_timings_with_their_words():
    h = harness("local-piper")
    result = await h.provider.synthesize("Hello brave world.",
                                         voice=voice_of(h.provider, h.voice_id))
    words = [t.word for t in result.timings]
    assert {"Hello", "brave", "world"} <= set(words)
    assert all(a.end_s <= b.start_s + 1e-6 for a, b in zip(result.timings, result.timings[1:],
                                                           strict=False))
    assert result.timings[-1].end_s <= result.duration_s + 1e-6


@pytest.mark.parametrize("name", VENDORS)
async def test_busy_vendors_are_retried_then_answer(name):
    h = vendor_harness(name)
    h.fake.fail(429, code="rate_limit_exceeded", retry_after=1.5)
    h.fake.fail(503)
    result = await h.provider.synthesize("Hi.", voice=voice_of(h.provider, h.voice_id))
    assert result.duration_s > 0
    assert h.sleeps == [1.5, 1.0]
    assert len(h.fake.history) == 3


@pytest.mark.parametrize("name", VENDORS)
@pytest.mark.parametrize(("status", "code", "error"), [
    (401, "invalid_api_key", ProviderAuthError),
    (400, "voice_not_found", ProviderRejected),
    (500, None, ProviderUnavailable),
])
async def test_vendor_failures_become_provider_errors(name, status, code, error):
    h = vendor_harness(name)
    h.fake.fail(status, code=code, times=5)
    with pytest.raises(error):
        await h.provider.synthesize("Hi.", voice=voice_of(h.provider, h.voice_id))
    assert len(h.fake.history) == (3 if error is ProviderUnavailable else 1)


@pytest.mark.parametrize("name", VENDORS)
async def test_quota_and_connection_failures(name):
    h = vendor_harness(name)
    voice = voice_of(h.provider, h.voice_id)
    h.fake.fail(429 if name == "openai" else 401,
                code="insufficient_quota" if name == "openai" else "quota_exceeded")
    with pytest.raises(ProviderQuotaError):
        await h.provider.synthesize("Hi.", voice=voice)
    h.fake.disconnect(times=3)
    with pytest.raises(ProviderUnavailable):
        await h.provider.synthesize("Hi.", voice=voice)


async def test_openai_sends_the_documented_speech_request():
    h = vendor_harness("openai")
    await h.provider.synthesize("Hi there.", voice=voice_of(h.provider, h.voice_id), rate=1.5)
    request = h.fake.history[-1]
    assert request.path == "/v1/audio/speech"
    assert request.json == {"model": "gpt-4o-mini-tts", "input": "Hi there.", "voice": "alloy",
                            "response_format": "wav", "speed": 1.5}


async def test_elevenlabs_clamps_the_rate_and_clones_voices():
    h = vendor_harness("elevenlabs")
    await h.provider.synthesize("Hi.", voice=voice_of(h.provider, h.voice_id), rate=2.0)
    assert h.fake.history[-1].json["voice_settings"] == {"speed": 1.2}
    voice_id = await h.provider.clone_voice(name="Ada", samples=[(b"RIFF....", "audio/wav")])
    request = h.fake.history[-1]
    assert request.path == "/v1/voices/add" and request.form["name"] == ["Ada"]
    assert request.files[0][0] == "files" and request.files[0][2] == b"RIFF...."
    assert h.fake.voices[voice_id] == "Ada"
    await h.provider.delete_voice(voice_id)
    assert voice_id not in h.fake.voices
    await h.provider.delete_voice(voice_id)  # already gone is fine

    h.fake.require_verification = True
    with pytest.raises(ProviderRejected):
        await h.provider.clone_voice(name="Bea", samples=[(b"RIFF....", "audio/wav")])
    assert "Bea" not in h.fake.voices.values()  # not left behind


@pytest.fixture(scope="module")
def speech_sample() -> SpeechInput:
    import asyncio

    tts = LocalTTS()
    result = asyncio.run(tts.synthesize("Please call me back tomorrow morning.",
                                        voice=voice_of(tts, "local:piper-joe")))
    data = wav_bytes(result.samples, result.sample_rate)
    samples, _ = decode_to_pcm(data, rate=STT_SAMPLE_RATE)
    return SpeechInput(samples=samples.astype(np.float32) / 32768.0,
                       duration_s=result.duration_s, original=data, content_type="audio/wav")


async def test_local_stt_hears_the_words(speech_sample, tmp_path):
    stt = LocalSTT(data_dir=tmp_path)
    transcript = await stt.transcribe(speech_sample)
    assert transcript.text.lower().strip(" .") == "please call me back tomorrow morning"
    assert transcript.language == "en" and transcript.provider == "local"
    assert [w.word.strip(".").lower() for w in transcript.words][:2] == ["please", "call"]


async def test_openai_stt_sends_the_file_and_reads_the_language(speech_sample):
    h = vendor_harness("openai")
    transcript = await h.provider.transcribe(speech_sample, language="en")
    request = h.fake.history[-1]
    assert request.form["model"] == ["whisper-1"] and request.form["language"] == ["en"]
    assert request.form["response_format"] == ["verbose_json"]
    assert request.files[0][2] == speech_sample.original
    assert transcript.text == FakeOpenAISpeech.transcript and transcript.language == "en"
    h.fake.fail(401, code="invalid_api_key")
    with pytest.raises(ProviderAuthError):
        await h.provider.transcribe(speech_sample)
