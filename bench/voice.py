"""Voice figures on this machine: how soon a spoken reply starts, and how fast the engines run.

    .venv/bin/python bench/voice.py [--replies 3] [--voice local:piper-joe]

1. Spoken replies on the local language model: for each reply (`speak: true`, through
   `chat.replies.send_message` and `voice.spoken_reply`, the same path as the API), the time to
   the first token, to the end of the first sentence in the text, to the first `audio` event
   and to the whole text reply (`done`). Prints first audio minus first sentence end (the goal:
   within 1.0 s) and first audio as a share of the whole reply's time.
2. TTS real-time factor (seconds of work per second of audio) of Piper, Kokoro and espeak-ng,
   and of the Ogg/Opus encoding, on the same sentences; STT real-time factor of the local Whisper
   model on Piper's audio. Load times are printed apart.
3. Resident memory before and after the speech engines load.
Figures are medians. Not a test: it only prints its figures.
"""

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

SENTENCES = [
    "Good morning! I hope you slept well and the coffee is already on.",
    "The train leaves at half past nine, so we have plenty of time for breakfast.",
    "Tell me about the book you are reading; I would love to hear what happens next.",
]
PROMPTS = ["Tell me about your favourite place in three sentences.",
           "What would you cook for a friend tonight? Answer in three sentences.",
           "Describe a rainy afternoon in three sentences."]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def engines() -> None:
    from clonechats.providers.speech import local_piper
    from clonechats.providers.speech.encoding import decode_to_pcm, encode_opus, normalise
    from clonechats.providers.speech.local import LocalSTT, LocalTTS
    from clonechats.voice import speech_input

    tts = LocalTTS()
    voices = {v.id: v for v in tts.voices()}
    before = rss_mb()
    started = time.perf_counter()
    await local_piper.worker().run(lambda model: None, max_waiting=1)
    print(f"Piper load: {time.perf_counter() - started:.2f} s")
    for voice_id in ("local:piper-joe", "local:kokoro-alpha-en", "local:espeak-en-us-m"):
        if voice_id not in voices:
            continue
        factors, encode_factors = [], []
        last = None
        for text in SENTENCES:
            started = time.perf_counter()
            last = await tts.synthesize(text, voice=voices[voice_id])
            factors.append((time.perf_counter() - started) / last.duration_s)
            started = time.perf_counter()
            encode_opus(normalise(last.samples, last.sample_rate), last.sample_rate)
            encode_factors.append((time.perf_counter() - started) / last.duration_s)
        print(f"TTS {voice_id}: RTF {statistics.median(factors):.3f} "
              f"(Opus encoding adds {statistics.median(encode_factors):.3f})")
    stt = LocalSTT(data_dir=Path(tempfile.mkdtemp()))
    factors = []
    for index, text in enumerate(SENTENCES):
        spoken = await tts.synthesize(text, voice=voices["local:piper-joe"])
        ogg = encode_opus(spoken.samples, spoken.sample_rate)
        prepared = speech_input.prepare_blocking(ogg, max_seconds=60, max_bytes=10**8)
        started = time.perf_counter()
        heard = await stt.transcribe(prepared)
        seconds = time.perf_counter() - started
        if index == 0:
            print(f"Whisper load + first transcription: {seconds:.2f} s ({heard.text!r})")
            continue
        factors.append(seconds / prepared.duration_s)
    print(f"STT local Whisper (multilingual: {stt.multilingual}): RTF "
          f"{statistics.median(factors):.3f}")
    assert decode_to_pcm  # the same decoder the vendor adapters use
    print(f"RSS: {before:.0f} MB before the speech engines, {rss_mb():.0f} MB with both loaded")


async def spoken_replies(count: int, voice_id: str) -> None:
    from clonechats.accounts.service import new_user
    from clonechats.billing import ledger
    from clonechats.chat import replies
    from clonechats.chat import service as chat
    from clonechats.context import open_context
    from clonechats.personas import repo as persona_repo
    from clonechats.settings import Settings
    from clonechats.voice.sentences import SentenceSplitter
    from clonechats.voice.spoken_reply import spoken_batches

    data_dir = Path(tempfile.mkdtemp())
    settings = Settings(_env_file=None, data_dir=data_dir, dev_mode=True,
                        secret_key="bench-" + "x" * 40, log_json=False)
    ctx = await open_context(settings)
    try:
        now = ctx.clock.now()
        user = new_user(email="bench@example.com", now=now, status="active",
                        auth_provider="password", password_hash=None, email_verified=True,
                        birth_date="1990-01-01")
        await ctx.db.users.insert_one(user)
        await ledger.apply(ctx.db, user_id=user["_id"], delta=100_000, kind=ledger.GRANT,
                           reason="bench", idempotency_key="bench", now=now)
        persona = {"_id": persona_repo.new_persona_id(), "owner_id": user["_id"], "name": "Maren",
                   "tagline": "", "traits": ["warm"], "tone": "", "system_prompt": "",
                   "system_prompt_public": False, "sliders": {}, "greeting": "",
                   "example_dialogue": "", "visibility": "private", "avatar_media_id": None,
                   "reference_image_ids": [], "reference_voice_id": None, "model": None,
                   "share_id": None, "favourite_count": 0, "created_at": now,
                   "updated_at": now, "voice": {"voice_id": voice_id, "rate": 1.0}}
        await persona_repo.insert(ctx.db, persona)
        gaps, shares = [], []
        for round_ in range(count + 1):  # the first round warms every model up
            conversation = await chat.create(ctx, user_id=user["_id"],
                                             persona_id=persona["_id"])
            started = time.perf_counter()
            generation = await replies.send_message(
                ctx, user_id=user["_id"], conversation_id=conversation["_id"],
                text=PROMPTS[round_ % len(PROMPTS)])
            splitter = SentenceSplitter()
            first_token = sentence_end = first_audio = done = None
            async for batch in spoken_batches(ctx, generation):
                moment = time.perf_counter() - started
                for name, data in batch:
                    if name == "token":
                        first_token = first_token if first_token is not None else moment
                        if sentence_end is None and splitter.feed(data["text"]):
                            sentence_end = moment
                    elif name == "audio" and first_audio is None:
                        first_audio = moment
                    elif name in ("done", "error"):
                        done = moment
            if sentence_end is None:
                sentence_end = done
            label = "warm-up" if round_ == 0 else f"reply {round_}"
            print(f"{label}: first token {first_token:.2f} s, first sentence ends "
                  f"{sentence_end:.2f} s, first audio {first_audio or float('nan'):.2f} s, "
                  f"whole text reply {done:.2f} s")
            if round_ and first_audio is not None:
                gaps.append(first_audio - sentence_end)
                shares.append(first_audio / done)
        if gaps:
            print(f"Median first audio after the first sentence's end: "
                  f"{statistics.median(gaps):.2f} s (goal: within 1.0 s); first audio at "
                  f"{statistics.median(shares):.0%} of the whole text reply's time")
    finally:
        await ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=3)
    parser.add_argument("--voice", default="local:piper-joe")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    asyncio.run(engines())
    asyncio.run(spoken_replies(args.replies, args.voice))


if __name__ == "__main__":
    main()
