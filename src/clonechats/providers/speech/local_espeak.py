"""espeak-ng (the Debian package): many languages and voice variants, robotic but clear.

Each call runs `espeak-ng -v <voice> -s <words per minute> --stdout` as a subprocess (off the
event loop) with the text on standard input, so no text is ever read as an option. The WAV it
writes to a pipe has placeholder sizes in its header, so the samples are read from the header's
rate and everything after the 44-byte header. `available()` is False where the program is not
installed; its voices are then not offered.
"""

import asyncio
import shutil
import struct

import numpy as np

from clonechats.providers.errors import ProviderRejected, ProviderUnavailable
from clonechats.providers.speech.base import Synthesis, VoiceInfo

NAME = "local"
PROGRAM = "espeak-ng"
BASE_WPM = 165
TIMEOUT_S = 60.0

# (name, espeak voice, language, label)
VOICES: tuple[tuple[str, str, str, str], ...] = (
    ("espeak-en-us-f", "en-us+f3", "en-US", "English (US), female · espeak-ng, robotic"),
    ("espeak-en-us-m", "en-us+m3", "en-US", "English (US), male · espeak-ng, robotic"),
    ("espeak-en-gb-f", "en-gb+f4", "en-GB", "English (UK), female · espeak-ng, robotic"),
    ("espeak-en-gb-m", "en-gb-x-rp", "en-GB", "English (UK), male · espeak-ng, robotic"),
    ("espeak-es-f", "es+f3", "es", "Spanish, female · espeak-ng, robotic"),
    ("espeak-es-m", "es", "es", "Spanish, male · espeak-ng, robotic"),
    ("espeak-fr-f", "fr-fr+f3", "fr", "French, female · espeak-ng, robotic"),
    ("espeak-fr-m", "fr-fr", "fr", "French, male · espeak-ng, robotic"),
    ("espeak-hi-f", "hi+f3", "hi", "Hindi, female · espeak-ng, robotic"),
    ("espeak-hi-m", "hi", "hi", "Hindi, male · espeak-ng, robotic"),
    ("espeak-de-m", "de", "de", "German, male · espeak-ng, robotic"),
    ("espeak-pt-m", "pt-br", "pt-BR", "Portuguese (Brazil), male · espeak-ng, robotic"),
)


def available() -> bool:
    return shutil.which(PROGRAM) is not None


def voices() -> list[VoiceInfo]:
    if not available():
        return []
    return [VoiceInfo(id=f"{NAME}:{name}", provider=NAME, label=label, language=language,
                      engine_voice=engine) for name, engine, language, label in VOICES]


def parse_wav_stream(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of a 16-bit mono WAV written to a pipe (sizes in its header unset)."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ProviderUnavailable("espeak-ng wrote no WAV audio", provider=NAME)
    channels, rate = struct.unpack("<HI", data[22:28])
    bits = struct.unpack("<H", data[34:36])[0]
    if channels != 1 or bits != 16:
        raise ProviderUnavailable("espeak-ng wrote unexpected audio", provider=NAME)
    body = data[44:]
    body = body[: len(body) - len(body) % 2]
    return np.frombuffer(body, dtype="<i2").astype(np.int16), rate


async def synthesize(text: str, *, voice: VoiceInfo, rate: float) -> Synthesis:
    if not available():
        raise ProviderUnavailable("espeak-ng is not installed", provider=NAME, retryable=False)
    wpm = str(max(80, min(450, round(BASE_WPM * rate))))
    try:
        process = await asyncio.create_subprocess_exec(
            PROGRAM, "-v", voice.engine_voice, "-s", wpm, "--stdout",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
    except OSError as exc:
        raise ProviderUnavailable(f"espeak-ng could not start ({exc})", provider=NAME) from None
    try:
        out, err = await asyncio.wait_for(process.communicate(text.encode("utf-8")), TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise ProviderUnavailable("espeak-ng took too long", provider=NAME) from None
    if process.returncode != 0:
        raise ProviderRejected(f"espeak-ng failed: {err.decode('utf-8', 'replace')[:200]}",
                               provider=NAME)
    samples, sample_rate = await asyncio.to_thread(parse_wav_stream, out)
    return Synthesis(samples=samples, sample_rate=sample_rate, language=voice.language,
                     provider=NAME, voice_id=voice.id)
