"""One talking-head render, start to finish, on the calling thread.

`render_talking_head()` finds the face (`faces`), reads the voice (`speech`), computes the
mouth curves, draws each frame (`animation`) and pipes it to ffmpeg (`encoding`), calling
`on_frame(done, total)` after each frame and stopping with `VideoCancelled` as soon as
`cancelled()` is true. The clip lasts as long as the voice, at most `max_seconds`.
"""

from collections.abc import Callable

from clonechats.providers.video import faces, speech
from clonechats.providers.video.animation import Portrait
from clonechats.providers.video.base import RenderedVideo, VideoCancelled, VideoRequest
from clonechats.providers.video.encoding import Mp4Encoder, poster_jpeg


def render_talking_head(request: VideoRequest, *, size: int = 512, fps: int = 25,
                        threads: int = 2, seed: int = 0,
                        on_frame: Callable[[int, int], None] | None = None,
                        cancelled: Callable[[], bool] = lambda: False) -> RenderedVideo:
    pixels = faces.decode_image(request.image)
    layout = faces.find_face(pixels)
    voice = speech.load_speech(request.audio, max_seconds=request.max_seconds)
    curves = speech.mouth_curves(voice, fps, request.phonemes)
    portrait = Portrait.prepare(pixels, layout, size=size, seed=seed)
    total = len(curves.open)
    portrait.schedule_blinks(total / fps)
    poster = poster_jpeg(portrait.frame(0.0, opening=0.0, width=1.0, loudness=0.0))
    with Mp4Encoder(width=size, height=size, fps=fps, wav=voice.wav,
                    max_seconds=min(request.max_seconds, voice.duration_s),
                    threads=threads) as encoder:
        for index in range(total):
            if cancelled():
                raise VideoCancelled("the render was cancelled", provider="local",
                                     code="cancelled")
            encoder.write(portrait.frame(index / fps, opening=float(curves.open[index]),
                                         width=float(curves.width[index]),
                                         loudness=float(curves.loudness[index])))
            if on_frame is not None:
                on_frame(index + 1, total)
        video = encoder.finish()
    return RenderedVideo(video=video, poster=poster, duration_s=round(total / fps, 3),
                         width=size, height=size)
