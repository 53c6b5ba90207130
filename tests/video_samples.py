"""Inputs for video tests and the benchmark: a drawn face that OpenCV's detector finds, other
images that have none, and speech-like WAVs whose loud and silent stretches are known.

The "speech" is voiced syllables: a 120 Hz buzz with its harmonics shaped by two formants,
each syllable rising and falling in loudness, with pauses of real silence between words. It is
not language, but it has what the renderer reads: a loudness envelope and a spectrum.
"""

import io
import wave

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def face_image(size: int = 512, *, fmt: str = "PNG", background=(70, 90, 120)) -> bytes:
    """A front-facing drawn face (skin, hair, brows, eyes, nose, lips) as PNG/JPEG bytes."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    s = size / 512
    cx, cy = size / 2, size * 0.5
    draw.ellipse([cx - 150 * s, cy - 200 * s, cx + 150 * s, cy + 60 * s], fill=(50, 35, 25))
    draw.rectangle([cx - 55 * s, cy + 120 * s, cx + 55 * s, size], fill=(200, 150, 120))
    draw.ellipse([cx - 125 * s, cy - 160 * s, cx + 125 * s, cy + 170 * s], fill=(224, 172, 140))
    for side in (-1, 1):
        ex = cx + side * 52 * s
        draw.rounded_rectangle([ex - 38 * s, cy - 72 * s, ex + 38 * s, cy - 58 * s],
                               radius=6 * s, fill=(60, 40, 30))
        draw.ellipse([ex - 30 * s, cy - 45 * s, ex + 30 * s, cy - 15 * s], fill=(240, 240, 235))
        draw.ellipse([ex - 14 * s, cy - 44 * s, ex + 14 * s, cy - 16 * s], fill=(60, 40, 30))
        draw.ellipse([ex - 6 * s, cy - 36 * s, ex + 6 * s, cy - 24 * s], fill=(10, 10, 10))
    draw.polygon([(cx, cy - 20 * s), (cx - 18 * s, cy + 40 * s), (cx + 18 * s, cy + 40 * s)],
                 fill=(205, 150, 120))
    draw.ellipse([cx - 24 * s, cy + 30 * s, cx + 24 * s, cy + 50 * s], fill=(190, 135, 110))
    draw.ellipse([cx - 45 * s, cy + 78 * s, cx + 45 * s, cy + 102 * s], fill=(170, 70, 75))
    draw.line([cx - 42 * s, cy + 90 * s, cx + 42 * s, cy + 90 * s], fill=(110, 40, 45),
              width=max(1, int(3 * s)))
    image = image.filter(ImageFilter.GaussianBlur(2 * s))
    return _encode(image, fmt)


def landscape_image(size: int = 512, *, fmt: str = "PNG") -> bytes:
    """Sky, hills and a sun: an image with no face in it."""
    image = Image.new("RGB", (size, size), (120, 170, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse([size * 0.65, size * 0.1, size * 0.85, size * 0.3], fill=(250, 220, 90))
    draw.polygon([(0, size * 0.7), (size * 0.4, size * 0.45), (size, size * 0.75),
                  (size, size), (0, size)], fill=(60, 140, 70))
    return _encode(image, fmt)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


SYLLABLE_S = 0.22


def speech_plan(words: int = 4, syllables: int = 3, pause_s: float = 0.45,
                lead_s: float = 0.3) -> list[tuple[float, float]]:
    """(start, end) seconds of each voiced syllable; everything else is silence."""
    plan, t = [], lead_s
    for _ in range(words):
        for _ in range(syllables):
            plan.append((t, t + SYLLABLE_S))
            t += SYLLABLE_S + 0.04
        t += pause_s
    return plan


def speech_wav(plan: list[tuple[float, float]] | None = None, *, rate: int = 22050,
               tail_s: float = 0.4) -> bytes:
    plan = plan if plan is not None else speech_plan()
    total = plan[-1][1] + tail_s if plan else 1.0
    t = np.arange(int(total * rate)) / rate
    signal = np.zeros_like(t)
    rng = np.random.default_rng(7)
    for index, (start, end) in enumerate(plan):
        inside = (t >= start) & (t < end)
        local = t[inside] - start
        envelope = np.sin(np.pi * local / (end - start)) ** 0.6
        f0 = 120 + 15 * np.sin(2 * np.pi * 3 * local) + rng.uniform(-8, 8)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        formants = (700, 1200) if index % 3 == 0 else (400, 2300) if index % 3 == 1 else (500,
                                                                                        900)
        voice = sum(np.sin(k * phase) * _formant_gain(k * f0.mean(), formants) / k
                    for k in range(1, 30))
        signal[inside] = voice * envelope
    signal = 0.5 * signal / (np.abs(signal).max() or 1)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((signal * 32767).astype(np.int16).tobytes())
    return out.getvalue()


def _formant_gain(freq: float, formants: tuple[int, int]) -> float:
    return sum(1.0 / (1 + ((freq - f) / 150) ** 2) for f in formants) + 0.05
