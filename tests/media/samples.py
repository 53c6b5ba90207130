"""Real media made on the spot for tests: images with Pillow, audio with `wave` and PyAV."""

from __future__ import annotations

import io
import math
import struct
import wave

import av
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48), *,
                colour: tuple[int, ...] = (200, 30, 30), mode: str = "RGB",
                **save: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (80, 40), *, orientation: int | None = None) -> bytes:
    """A JPEG whose EXIF holds a camera model, a GPS position and optionally an orientation."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 9"  # Model
    if orientation is not None:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (51.0, 30.0, 12.5)
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    image = Image.new("RGB", size, (10, 120, 220))
    # a marker pixel block top-left, to see the orientation applied
    for x in range(10):
        for y in range(10):
            image.putpixel((x, y), (255, 255, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


def tone_pcm(seconds: float, rate: int) -> bytes:
    count = int(rate * seconds)
    return b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                    for i in range(count))


def wav_bytes(seconds: float, *, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(tone_pcm(seconds, rate))
    return out.getvalue()


def encoded_audio(container: str, codec: str, seconds: float, *, rate: int = 48000) -> bytes:
    """A tone encoded with PyAV: ("mp3", "libmp3lame"), ("ogg", "libopus"), ("ogg", "vorbis"),
    ("webm", "libopus")... The native "vorbis" encoder is used (the wheel has no libvorbis)."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as output:
        if codec == "vorbis":
            stream = output.add_stream(codec, rate=rate)
            stream.codec_context.options = {"strict": "-2"}  # FFmpeg's encoder is experimental
        else:
            stream = output.add_stream(codec, rate=rate, layout="mono")
        context = stream.codec_context
        resampler = av.AudioResampler(format=context.format.name, layout=context.layout.name,
                                      rate=rate)
        pcm = tone_pcm(seconds, rate)
        step = (context.frame_size or 1024) * 2
        pts = 0
        for start in range(0, len(pcm), step):
            chunk = pcm[start:start + step]
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(chunk) // 2)
            frame.planes[0].update(chunk)
            frame.sample_rate = rate
            frame.pts = pts
            pts += frame.samples
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    output.mux(packet)
        for resampled in resampler.resample(None):
            for packet in stream.encode(resampled):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return out.getvalue()


def webm_with_video(seconds: float = 1.0) -> bytes:
    """A WebM holding a short VP8 (or VP9) video stream: not a voice recording."""
    out = io.BytesIO()
    with av.open(out, "w", format="webm") as output:
        codec = "libvpx" if "libvpx" in av.codecs_available else "libvpx-vp9"
        stream = output.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(int(seconds * 10)):
            frame = av.VideoFrame.from_image(Image.new("RGB", (32, 32), (index * 20, 0, 0)))
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return out.getvalue()
