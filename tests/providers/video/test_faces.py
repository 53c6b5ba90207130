"""Face finding: the packaged Haar detector finds a drawn face and its parts, and refuses
images with no face, tiny images and files that are not images."""

import io

import pytest
from PIL import Image

from clonechats.providers.video import faces
from clonechats.providers.video.base import VideoInputError
from tests.video_samples import face_image, landscape_image


@pytest.mark.parametrize(("size", "fmt"), [(512, "PNG"), (300, "JPEG"), (900, "WEBP")])
def test_finds_the_face_and_places_eyes_above_the_mouth(size: int, fmt: str) -> None:
    layout = faces.find_face(faces.decode_image(face_image(size, fmt=fmt)))

    face = layout.face
    # The drawn face is centred, about 0.5 of the image wide.
    assert abs(face.cx - size / 2) < size * 0.06
    assert 0.4 * size < face.w < 0.8 * size
    # Eyes in the upper half of the face, left of centre and right of centre.
    assert layout.left_eye.cx < face.cx < layout.right_eye.cx
    for eye in (layout.left_eye, layout.right_eye):
        assert face.y + face.h * 0.25 < eye.cy < face.y + face.h * 0.5
    # The lips were drawn at 0.5 + 90/512 of the image height: the mouth row finds them.
    assert abs(layout.mouth.cy - size * (0.5 + 90 / 512)) < size * 0.03
    assert abs(layout.mouth.cx - size / 2) < size * 0.03


def test_an_image_without_a_face_is_refused() -> None:
    with pytest.raises(VideoInputError) as caught:
        faces.find_face(faces.decode_image(landscape_image()))
    assert caught.value.code == "no_face_image"
    assert caught.value.retryable is False


def test_a_tiny_image_is_refused() -> None:
    with pytest.raises(VideoInputError) as caught:
        faces.find_face(faces.decode_image(face_image(100)))
    assert caught.value.code == "image_too_small"


def test_a_face_too_small_to_animate_is_refused() -> None:
    # An 80 px drawing (a face box of about 50 px) in the corner of a 300 px image.
    canvas = Image.open(io.BytesIO(landscape_image(300)))
    canvas.paste(Image.open(io.BytesIO(face_image(80))), (20, 20))
    out = io.BytesIO()
    canvas.save(out, "PNG")
    with pytest.raises(VideoInputError) as caught:
        faces.find_face(faces.decode_image(out.getvalue()))
    assert caught.value.code == "image_too_small"


@pytest.mark.parametrize("data", [b"not an image at all", b"\x89PNG\r\n\x1a\nbroken", b""])
def test_bytes_that_are_not_an_image_are_refused(data: bytes) -> None:
    with pytest.raises(VideoInputError) as caught:
        faces.decode_image(data)
    assert caught.value.code == "invalid_image"
