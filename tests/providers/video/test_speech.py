"""Speech to mouth shapes: loudness opens the mouth, silence closes it, phonemes pick shapes."""

import numpy as np
import pytest

from clonechats.providers.video import speech
from clonechats.providers.video.base import PhonemeTiming, VideoInputError
from tests.video_samples import speech_plan, speech_wav

FPS = 25


def _frames_inside(plan: list[tuple[float, float]], margin: float) -> np.ndarray:
    return np.array(sorted({round(t * FPS) for start, end in plan
                            for t in np.arange(start + margin, end - margin, 1 / FPS)}))


def _frames_silent(plan: list[tuple[float, float]], total: int) -> np.ndarray:
    voiced = set()
    for start, end in plan:
        voiced.update(range(int(start * FPS) - 3, int(end * FPS) + 4))
    return np.array([i for i in range(total) if i not in voiced])


def test_the_envelope_is_high_in_syllables_and_zero_in_pauses() -> None:
    plan = speech_plan()
    voice = speech.load_speech(speech_wav(plan), max_seconds=30)
    curves = speech.mouth_curves(voice, FPS)

    loud = curves.open[_frames_inside(plan, 0.06)]
    silent = curves.open[_frames_silent(plan, len(curves.open))]
    assert loud.mean() > 0.5
    assert silent.max() < 0.05
    assert len(curves.open) == round(voice.duration_s * FPS)


def test_speech_is_cut_at_max_seconds() -> None:
    voice = speech.load_speech(speech_wav(speech_plan(words=8)), max_seconds=2.0)
    assert voice.duration_s == pytest.approx(2.0, abs=0.01)


def test_phonemes_choose_mouth_shapes() -> None:
    assert speech.viseme("m") == (0.0, 0.95)
    assert speech.viseme("aː")[0] == 1.0
    assert speech.viseme("uː")[1] < 0.8  # rounded
    assert speech.viseme("iː")[1] > 1.1  # spread
    assert speech.viseme(" ") is None and speech.viseme("_") is None


def test_phoneme_timings_drive_the_curves() -> None:
    plan = [(0.2, 1.4)]
    voice = speech.load_speech(speech_wav(plan), max_seconds=30)
    phonemes = (PhonemeTiming("m", 0.2, 0.5), PhonemeTiming("a", 0.5, 0.9),
                PhonemeTiming("u", 0.9, 1.4))
    curves = speech.mouth_curves(voice, FPS, phonemes)
    closed, wide, round_ = (curves.open[int(0.35 * FPS)], curves.open[int(0.7 * FPS)],
                            curves.open[int(1.15 * FPS)])
    assert closed < 0.3 < wide
    assert round_ < wide
    assert curves.width[int(1.2 * FPS)] < 0.85  # lips rounded for "u"
    assert curves.open[int(1.7 * FPS)] < 0.05  # silence after the speech


@pytest.mark.parametrize("data", [b"RIFF....WAVEnope", b"\x00" * 400])
def test_unreadable_audio_is_refused(data: bytes) -> None:
    with pytest.raises(VideoInputError) as caught:
        speech.load_speech(data, max_seconds=30)
    assert caught.value.code == "invalid_audio"
