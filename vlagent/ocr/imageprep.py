"""Image handling around the OCR models: how large the detector sees an image (and in
which tiles), contrast stretching for faint text, and cutting out one text line."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


def to_bgr(image: Image.Image) -> np.ndarray:
    """PIL image (any mode) → contiguous BGR uint8 array, the layout the PP-OCR models expect;
    transparent areas read as white paper (:func:`vlagent.imaging.load.to_rgb`)."""
    from vlagent.imaging.load import to_rgb

    return np.ascontiguousarray(np.asarray(to_rgb(image))[:, :, ::-1])


@dataclass(frozen=True)
class Tile:
    """A horizontal band of the image, ``y0``–``y1``. Cuts run between text lines, never
    through them, because lines are wide and short."""

    y0: int
    y1: int
    # The detections a tile owns: those centred in keep0–keep1. Its neighbour sees the
    # ones centred outside whole.
    keep0: float
    keep1: float


@dataclass(frozen=True)
class DetPlan:
    scale: float
    tiles: list[Tile]


def plan_detection(width: int, height: int, *, max_pixels: int, min_scale: float, small_side: int,
                   small_upscale: float, overlap: int = 160) -> DetPlan:
    """How to show an image to the text detector.

    The detector's cost grows with pixels, so large images are scaled down to ``max_pixels``,
    but never below ``min_scale`` (UI text would get too small to find). Images that would
    need less are cut into overlapping bands, each within the pixel budget at ``min_scale``.
    Small images (longest side under ``small_side``) are enlarged by ``small_upscale``.
    """
    if max(width, height) < small_side:
        return DetPlan(small_upscale, [Tile(0, height, 0.0, float(height))])
    scale = min(1.0, math.sqrt(max_pixels / (width * height)))
    if scale >= min_scale:
        return DetPlan(scale, [Tile(0, height, 0.0, float(height))])
    scale = min_scale
    band = max(int(max_pixels / (scale * scale * width)), 3 * overlap)
    if band >= height:  # very wide and short: one band, a little over budget
        return DetPlan(scale, [Tile(0, height, 0.0, float(height))])
    starts = list(range(0, height - band, band - overlap)) + [height - band]
    # Each band owns the detections centred between the middles of its overlaps.
    bounds = [0.0] + [(starts[i] + starts[i - 1] + band) / 2 for i in range(1, len(starts))] + [float(height)]
    return DetPlan(scale, [Tile(s, s + band, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)])


def contrast_spread(bgr: np.ndarray) -> float:
    """Spread of brightness (0–255) between the darkest and brightest 0.2% of pixels."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    lo, hi = np.percentile(gray, (0.2, 99.8))
    return float(hi - lo)


def stretch_contrast(bgr: np.ndarray) -> np.ndarray:
    """Grey image with its brightness range stretched to 0–255: faint text (orange on orange,
    light grey on white) becomes dark on light, or light on dark, for the detector."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    lo, hi = np.percentile(gray, (0.2, 99.8))
    out = np.clip((gray - lo) * (255.0 / max(hi - lo, 1.0)), 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def crop_line(bgr: np.ndarray, box: np.ndarray, pad: float) -> np.ndarray:
    """Cut one detected line out of the image, straightened, then extend it above and below
    by ``pad`` × its height with its own edge pixels (never the neighbouring lines). The
    recogniser scales every line to 48 px high, so a taller crop is a narrower input: less
    work for the same text."""
    p = np.asarray(box, dtype=np.float32).reshape(4, 2)  # TL, TR, BR, BL
    w = int(round(max(np.linalg.norm(p[1] - p[0]), np.linalg.norm(p[2] - p[3]))))
    h = int(round(max(np.linalg.norm(p[3] - p[0]), np.linalg.norm(p[2] - p[1]))))
    w, h = max(w, 1), max(h, 1)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(p, dst)
    crop = cv2.warpPerspective(bgr, m, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if h >= 1.5 * w:  # vertical text: the recogniser reads left to right
        crop = np.ascontiguousarray(np.rot90(crop))
    extra = int(round(pad * crop.shape[0]))
    if extra:
        crop = cv2.copyMakeBorder(crop, extra, extra, 0, 0, cv2.BORDER_REPLICATE)
    return crop
