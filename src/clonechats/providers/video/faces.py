"""Finding the face, eyes and mouth in a persona's image, with OpenCV's packaged Haar cascades.

`find_face()` decodes the image (PNG, JPEG or WebP, by content), looks for frontal faces with
`haarcascade_frontalface_default.xml` (shipped inside opencv-python-headless under `cv2.data`)
and keeps the largest. Inside it, the eyes come from `haarcascade_eye.xml` in the upper half;
the mouth is the row of the lower face where the lips stand out most (redder and darker than
the skin around them), limited to where a mouth can be. Where a part is not found, the usual
proportions of a frontal face box stand in (eyes at 40 % of its height, mouth at 76 %).

Refusals are `VideoInputError`s: `invalid_image` (not a decodable image), `image_too_small`
(under `MIN_IMAGE_SIDE` pixels on a side, or a face under `MIN_FACE_SIDE`) and `no_face_image`.
Everything here is CPU work: call it in a thread.
"""

import io
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from clonechats.providers.video.base import NoFaceFound, VideoInputError

MIN_IMAGE_SIDE = 128
MIN_FACE_SIDE = 64
MAX_PIXELS = 50_000_000
DETECT_SIDE = 640  # faces are searched on a copy scaled to this long side


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> "Box":
        return Box((self.x - dx) * factor, (self.y - dy) * factor, self.w * factor,
                   self.h * factor)


@dataclass(frozen=True)
class FaceLayout:
    """Where things are, in pixels of the image they were found in."""

    face: Box
    left_eye: Box  # the eye on the image's left
    right_eye: Box
    mouth: Box  # the lips: centre on the seam between them

    def scaled(self, factor: float, dx: float = 0.0, dy: float = 0.0) -> "FaceLayout":
        return FaceLayout(*(part.scaled(factor, dx, dy) for part in
                            (self.face, self.left_eye, self.right_eye, self.mouth)))


def decode_image(data: bytes) -> np.ndarray:
    """RGB pixels of a PNG, JPEG or WebP image (EXIF orientation applied)."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"]) as image:
            if image.width * image.height > MAX_PIXELS:
                raise VideoInputError("The image has too many pixels.", code="image_too_large")
            rgb = ImageOps.exif_transpose(image).convert("RGB")
    except VideoInputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
            Image.DecompressionBombError):
        raise VideoInputError("The persona's image is not a readable PNG, JPEG or WebP image.",
                              code="invalid_image") from None
    return np.asarray(rgb)


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    folder = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from OpenCV's stubs
    classifier = cv2.CascadeClassifier(str(folder) + name)
    if classifier.empty():  # pragma: no cover - a broken OpenCV install
        raise RuntimeError(f"OpenCV's {name} could not be loaded")
    return classifier


def find_face(pixels: np.ndarray) -> FaceLayout:
    """The layout of the largest frontal face in RGB `pixels`, or a `VideoInputError`."""
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_IMAGE_SIDE:
        raise VideoInputError(f"The image is too small; it needs at least {MIN_IMAGE_SIDE} "
                              "pixels on each side.", code="image_too_small")
    scale = min(1.0, DETECT_SIDE / max(height, width))
    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)),
                          interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)
    min_side = max(24, round(min(gray.shape) * 0.12))
    faces = _cascade("haarcascade_frontalface_default.xml").detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side))
    if len(faces) == 0:
        raise NoFaceFound()
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    face = Box(x / scale, y / scale, w / scale, h / scale)
    if face.w < MIN_FACE_SIDE:
        raise VideoInputError(f"The face in the image is too small; it needs to be at least "
                              f"{MIN_FACE_SIDE} pixels wide.", code="image_too_small")
    left_eye, right_eye = _eyes(gray, face.scaled(scale), scale)
    mouth = _mouth(pixels, face)
    return FaceLayout(face, left_eye, right_eye, mouth)


def _eyes(gray: np.ndarray, face: Box, scale: float) -> tuple[Box, Box]:
    """Both eyes (image-left first), in full-image pixels."""
    eye_w, eye_h = face.w * 0.22, face.h * 0.11
    guesses = [Box(face.x + face.w * fx - eye_w / 2, face.y + face.h * 0.40 - eye_h / 2,
                   eye_w, eye_h) for fx in (0.31, 0.69)]
    x0, y0 = int(face.x), int(face.y + face.h * 0.18)
    region = gray[y0:int(face.y + face.h * 0.58), x0:int(face.x + face.w)]
    found: list[Box] = []
    if region.size:
        side = max(8, round(face.w * 0.12))
        for ex, ey, ew, eh in _cascade("haarcascade_eye.xml").detectMultiScale(
                region, scaleFactor=1.1, minNeighbors=6, minSize=(side, side)):
            found.append(Box(x0 + ex, y0 + ey, ew, eh))
    eyes = []
    for guess in guesses:
        near = [e for e in found if abs(e.cx - guess.cx) < face.w * 0.15
                and abs(e.cy - guess.cy) < face.h * 0.12]
        if near:
            best = min(near, key=lambda e: abs(e.cx - guess.cx) + abs(e.cy - guess.cy))
            # Haar eye boxes are square and generous: keep the centre, use the eye's shape.
            guess = Box(best.cx - eye_w / 2, best.cy - eye_h / 2, eye_w, eye_h)
        eyes.append(guess.scaled(1 / scale))
    return eyes[0], eyes[1]


def _mouth(pixels: np.ndarray, face: Box) -> Box:
    """The lips: the row of the lower face where redness minus brightness peaks."""
    width = face.w * 0.40
    x0, x1 = int(face.cx - width / 2), int(face.cx + width / 2)
    y0, y1 = int(face.y + face.h * 0.64), int(face.y + face.h * 0.90)
    region = pixels[max(0, y0):y1, max(0, x0):x1].astype(np.float32)
    centre_y = face.y + face.h * 0.76
    if region.shape[0] >= 4 and region.shape[1] >= 4:
        red, green, blue = region[..., 0], region[..., 1], region[..., 2]
        lipness = (red - (green + blue) / 2) - 0.35 * (red + green + blue) / 3
        rows = lipness.mean(axis=1)
        rows = np.convolve(rows, np.ones(3) / 3, mode="same")
        if rows.max() - np.median(rows) > 4.0:  # a clear band; otherwise keep the proportion
            centre_y = max(0, y0) + float(np.argmax(rows))
    height = face.h * 0.09
    return Box(face.cx - face.w * 0.19, centre_y - height / 2, face.w * 0.38, height)
