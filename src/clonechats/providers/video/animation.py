"""Drawing the talking face, frame by frame, from the still image and the mouth curves.

`Portrait.prepare()` crops the image to a square around the face (the face filling about 45 %
of it, a little room for the shoulders) and scales it to the output size. Each frame then:
  - the jaw drops by `open` (a smooth vertical displacement of the lower face, strongest at the
    lips and fading toward the chin and the cheeks), and the lips narrow or spread by `width`;
  - the gap between the lips becomes a mouth: a dark cavity with a hint of the upper teeth,
    with soft edges so it blends into the lips;
  - the eyes blink now and then (every 2-6 s, 0.16 s each) by drawing the lids down in the
    skin tone found just above each eye;
  - the whole head sways, tilts and nods a little (slow incommensurate sines, plus a small nod
    with the loudness), so the picture reads as alive rather than a cut-out.
Only the regions that change are recomputed; a frame costs a few milliseconds at 512 px.
"""

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from clonechats.providers.video.faces import Box, FaceLayout

FACE_SHARE = 0.45  # the face box's width as a share of the output frame
BLINK_SECONDS = 0.16


def _crop_box(layout: FaceLayout, width: int, height: int) -> tuple[int, int, int]:
    """(x, y, side) of a square around the face; may reach past the image (padded later)."""
    face = layout.face
    side = round(min(max(face.w / FACE_SHARE, face.w * 1.2), 4 * max(width, height)))
    cx, cy = face.cx, face.cy + face.h * 0.08
    return round(cx - side / 2), round(cy - side / 2), side


@dataclass
class _MouthWarp:
    x0: int
    y0: int
    base_x: np.ndarray
    base_y: np.ndarray
    drop: np.ndarray  # vertical displacement per unit of `open`, in pixels
    squeeze: np.ndarray  # share of horizontal squeeze per unit of (1 - width)
    mx: float
    my: float
    half_w: float
    max_gap: float


class Portrait:
    def __init__(self, image: np.ndarray, layout: FaceLayout, *, seed: int = 0) -> None:
        self.image = image  # output-sized RGB, uint8
        self.layout = layout  # in output pixels
        self.size = image.shape[0]
        self._rng = np.random.default_rng(seed)
        self._warp = self._mouth_warp()
        self._lids = [self._lid(eye) for eye in (layout.left_eye, layout.right_eye)]
        self._cavity_colour = np.array([52, 18, 24], np.float32)
        self._teeth_colour = np.array([226, 222, 212], np.float32)
        self._blinks: list[float] = []
        self._motion_phase = self._rng.uniform(0, 2 * np.pi, 4)

    @classmethod
    def prepare(cls, pixels: np.ndarray, layout: FaceLayout, *, size: int,
                seed: int = 0) -> "Portrait":
        height, width = pixels.shape[:2]
        x, y, side = _crop_box(layout, width, height)
        pad = max(0, -x, -y, x + side - width, y + side - height)
        if pad:
            pixels = cv2.copyMakeBorder(pixels, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        crop = pixels[y + pad:y + pad + side, x + pad:x + pad + side]
        scale = size / side
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(crop, (size, size), interpolation=interpolation)
        return cls(np.ascontiguousarray(image), layout.scaled(scale, x, y), seed=seed)

    # --- set-up ------------------------------------------------------------------------------

    def _mouth_warp(self) -> _MouthWarp:
        face, mouth = self.layout.face, self.layout.mouth
        mx, my = float(mouth.cx), float(mouth.cy)
        half_w = float(mouth.w) / 2
        max_gap = max(4.0, float(face.h) * 0.13)
        x0 = int(max(0, mx - face.w * 0.5))
        x1 = int(min(self.size, mx + face.w * 0.5))
        y0 = int(max(0, mouth.y - mouth.h * 1.5))
        y1 = int(min(self.size, face.y + face.h * 1.25 + max_gap))
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        chin = face.y + face.h * 1.02
        # Vertical: 0 above the lip seam, 1 just below it, fading out past the chin.
        below = np.clip((ys - (my - mouth.h * 0.15)) / (mouth.h * 0.6), 0, 1)
        fade = np.clip(1 - (ys - chin) / (face.h * 0.22), 0, 1)
        # Horizontal: the jaw's width, fading over the cheeks.
        dx = np.abs(xs - mx) / (face.w * 0.42)
        across = np.clip(1.25 - dx, 0, 1) ** 1.5
        drop = (below * fade * across).astype(np.float32)
        lips = np.exp(-(((xs - mx) / (half_w * 1.4)) ** 2 + ((ys - my) / (mouth.h * 2.2)) ** 2))
        return _MouthWarp(x0, y0, xs, ys, drop, lips.astype(np.float32) * 0.5, mx, my,
                          half_w, max_gap)

    def _lid(self, eye: Box) -> dict[str, Any]:
        x0, y0 = int(max(0, eye.x - eye.w * 0.15)), int(max(0, eye.y - eye.h * 0.6))
        x1 = int(min(self.size, eye.x + eye.w * 1.15))
        y1 = int(min(self.size, eye.y + eye.h * 1.3))
        # Lids take the skin tone of the cheek just under the eye (above it sit the brows).
        cheek = self.image[int(eye.y + eye.h * 1.3):int(eye.y + eye.h * 2.0),
                           int(eye.x + eye.w * 0.25):int(eye.x + eye.w * 0.75)]
        skin = (np.median(cheek.reshape(-1, 3), axis=0) if cheek.size else
                np.array([200, 160, 140])).astype(np.float32)
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        inside = (((xs - eye.cx) / (eye.w * 0.62)) ** 2
                  + ((ys - eye.cy) / (eye.h * 0.85)) ** 2)
        return {"box": (x0, y0, x1, y1), "ys": ys, "inside": inside, "skin": skin,
                "top": eye.cy - eye.h * 0.85, "span": eye.h * 1.7, "eye": eye}

    # --- per frame ---------------------------------------------------------------------------

    def schedule_blinks(self, duration_s: float) -> None:
        t = float(self._rng.uniform(0.6, 2.0))
        self._blinks = []
        while t < duration_s:
            self._blinks.append(t)
            t += float(self._rng.uniform(2.0, 6.0))

    def blink_closure(self, t: float) -> float:
        for start in self._blinks:
            if start <= t < start + BLINK_SECONDS:
                phase = (t - start) / BLINK_SECONDS
                return float(np.sin(np.pi * phase))
        return 0.0

    def frame(self, t: float, *, opening: float, width: float, loudness: float) -> np.ndarray:
        out = self.image.copy()
        if opening > 0.01 or abs(width - 1) > 0.01:
            self._draw_mouth(out, opening, width)
        closure = self.blink_closure(t)
        if closure > 0.02:
            for lid in self._lids:
                self._draw_lid(out, lid, closure)
        return self._move_head(out, t, loudness)

    def _draw_mouth(self, out: np.ndarray, opening: float, width: float) -> None:
        w = self._warp
        gap = w.max_gap * opening
        map_y = (w.base_y - w.drop * gap).astype(np.float32)
        map_x = (w.mx + (w.base_x - w.mx) * (1 + w.squeeze * (1 - width) * 2)).astype(np.float32)
        region = cv2.remap(self.image, map_x, map_y, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        if gap >= 1.0:
            half_w = w.half_w * (0.55 + 0.3 * opening) * width
            half_h = gap / 2 + 0.5
            cy = w.my + gap / 2
            dist = ((w.base_x - w.mx) / half_w) ** 2 + ((w.base_y - cy) / half_h) ** 2
            alpha = np.clip((1.0 - dist) * 3.0, 0, 1)[..., None]
            teeth = np.clip(1 - (w.base_y - (cy - half_h)) / max(1.5, half_h * 0.6), 0, 1)
            teeth = (teeth * min(1.0, opening * 2))[..., None]
            shade = np.clip(1 - dist, 0, 1)[..., None] * 0.35
            colour = (self._cavity_colour * (1 - shade) * (1 - teeth)
                      + self._teeth_colour * teeth * 0.85)
            region = (region * (1 - alpha) + colour * alpha).astype(np.uint8)
        out[w.y0:w.y0 + region.shape[0], w.x0:w.x0 + region.shape[1]] = region

    @staticmethod
    def _draw_lid(out: np.ndarray, lid: dict[str, Any], closure: float) -> None:
        x0, y0, x1, y1 = lid["box"]
        ys, inside = lid["ys"], lid["inside"]
        edge = lid["top"] + lid["span"] * closure
        covered = np.clip((edge - ys) / 1.5, 0, 1) * np.clip((1.15 - inside) * 4, 0, 1)
        lash = np.exp(-(((ys - edge) / 1.3) ** 2)) * np.clip((1.0 - inside) * 4, 0, 1)
        region = out[y0:y1, x0:x1].astype(np.float32)
        skin = lid["skin"]
        region = region * (1 - covered[..., None]) + skin * covered[..., None]
        region = region * (1 - 0.55 * lash[..., None] * closure)
        out[y0:y1, x0:x1] = np.clip(region, 0, 255).astype(np.uint8)

    def _move_head(self, out: np.ndarray, t: float, loudness: float) -> np.ndarray:
        p = self._motion_phase
        angle = 1.1 * np.sin(2 * np.pi * t / 4.3 + p[0]) + 0.4 * np.sin(2 * np.pi * t / 1.9 + p[1])
        shift_x = self.size * 0.005 * np.sin(2 * np.pi * t / 5.1 + p[2])
        shift_y = (self.size * 0.004 * np.sin(2 * np.pi * t / 3.7 + p[3])
                   + self.size * 0.004 * loudness)
        face = self.layout.face
        matrix = cv2.getRotationMatrix2D((face.cx, face.y + face.h * 1.1), float(angle), 1.0)
        matrix[0, 2] += shift_x
        matrix[1, 2] += shift_y
        return cv2.warpAffine(out, matrix, (self.size, self.size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT101)
