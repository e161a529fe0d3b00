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
    transparency flattened by :func:`vlagent.imaging.load.to_rgb` (on white, or on black behind
    light content such as white text)."""
    from vlagent.imaging.load import to_rgb

    rgb = np.array(to_rgb(image))  # a copy of our own: swapped in place, no second full-size array
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR, dst=rgb)


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
    return DetPlan(scale, _bands(height, band, overlap))


def _bands(height: int, band: int, overlap: int) -> list[Tile]:
    """Bands of ``band`` rows (``band`` < ``height``) covering ``height``, neighbours sharing
    ``overlap`` rows. Each band owns the detections centred between the middles of its overlaps."""
    starts = list(range(0, height - band, band - overlap)) + [height - band]
    bounds = [0.0] + [(starts[i] + starts[i - 1] + band) / 2 for i in range(1, len(starts))] + [float(height)]
    return [Tile(s, s + band, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


def plan_chunks(width: int, height: int, *, max_pixels: int, overlap: int) -> list[Tile]:
    """How OCR cuts a huge image into parts it reads one after another, so that its memory
    is that of one part, not of the whole image several times over (BGR, grey, contrast
    pass...): bands of whole rows, about ``max_pixels`` each, sharing ``overlap`` rows. A
    line shorter than ``overlap`` is whole in the band that owns it; the others see at most
    part of it, centred outside their own share. An image within ``max_pixels`` is one part.
    Bands are at least ``4 × overlap`` rows high: an image wider than ``max_pixels`` over
    that is first scaled down (:func:`chunk_scale`)."""
    if width * height <= max_pixels:
        return [Tile(0, height, 0.0, float(height))]
    band = max(max_pixels // max(width, 1), 4 * overlap)
    if band >= height:
        return [Tile(0, height, 0.0, float(height))]
    count = math.ceil((height - overlap) / (band - overlap))
    return _bands(height, math.ceil((height - overlap) / count) + overlap, overlap)  # evened out


def chunk_scale(width: int, height: int, *, max_pixels: int, overlap: int) -> float:
    """1.0, or the scale that narrows an image too large and too wide for :func:`plan_chunks`'s
    bands (its text gets smaller: only for images wider than ``max_pixels / (4 × overlap)``)."""
    if width * height <= max_pixels:
        return 1.0
    return min(1.0, max_pixels / (4 * overlap) / max(width, 1))


def quiet_rows(gray: np.ndarray, tolerance: int = 6) -> np.ndarray:
    """Per row of a grey image: True where the row looks the same as the one above it
    (within ``tolerance`` at every pixel). Runs of such rows are the gaps between lines of
    text; the borders of panels and sidebars are vertical and don't break them."""
    quiet = np.zeros(gray.shape[0], dtype=bool)
    if gray.shape[0] > 1:
        quiet[1:] = cv2.reduce(cv2.absdiff(gray[1:], gray[:-1]), 1, cv2.REDUCE_MAX)[:, 0] <= tolerance
    return quiet


def busy_area(gray: np.ndarray, tolerance: int = 4, margin: int = 48) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1): the part of a grey image where anything changes from one pixel to
    the next, with ``margin`` pixels around it, or None when there is nothing there (one
    colour, or only straight edges: a panel's border changes the same way all along it).
    Screenshots are often half empty: the detector need not read the empty part."""
    h, w = gray.shape
    if h < 2 or w < 2:
        return None
    cols = _changing(cv2.absdiff(gray[:, 1:], gray[:, :-1]), 0, tolerance)
    rows = _changing(cv2.absdiff(gray[1:], gray[:-1]), 1, tolerance)
    if not cols.size or not rows.size:
        return None
    return (max(0, int(cols[0]) - margin), max(0, int(rows[0]) - margin),
            min(w, int(cols[-1]) + 2 + margin), min(h, int(rows[-1]) + 2 + margin))


def _changing(diff: np.ndarray, axis: int, tolerance: int) -> np.ndarray:
    """Indices along the other axis whose differences exceed ``tolerance`` somewhere and
    are not the same all along ``axis`` (which a straight edge's are)."""
    most = cv2.reduce(diff, axis, cv2.REDUCE_MAX).ravel().astype(np.int16)
    least = cv2.reduce(diff, axis, cv2.REDUCE_MIN).ravel()
    return np.flatnonzero((most > tolerance) & (most - least > tolerance))


def split_plan(plan: DetPlan, parts: int, quiet: np.ndarray, *, overlap: int = 160, margin: int = 16,
               min_gap: int = 6, min_height: int = 320) -> DetPlan:
    """A one-tile plan cut into up to ``parts`` bands of similar height that the detector can
    read in parallel (plans of several bands already have pieces to share out).

    A cut goes through the middle of the longest run of ``quiet`` rows near the ideal place:
    a gap between lines, so the bands need share only ``margin`` rows each way. With no gap
    of ``min_gap`` rows there, it goes through the ideal place with ``overlap`` rows shared,
    as :func:`plan_detection`'s bands do. Images shorter than ``parts`` × ``min_height``
    are cut into fewer parts or none."""
    height = len(quiet)
    n = min(parts, height // min_height)
    if n <= 1 or len(plan.tiles) != 1:
        return plan
    cuts = []  # (row where ownership passes to the next band, rows shared each way)
    for i in range(1, n):
        ideal = round(i * height / n)
        reach = height // (4 * n)
        start, length = _longest_run(quiet[ideal - reach:ideal + reach])
        if length >= min_gap:
            cuts.append((ideal - reach + start + length // 2, margin))
        else:
            cuts.append((ideal, overlap // 2))
    starts = [0] + [c - half for c, half in cuts]
    ends = [c + half for c, half in cuts] + [height]
    keeps = [0.0] + [float(c) for c, _ in cuts] + [float(height)]
    return DetPlan(plan.scale, [Tile(starts[i], ends[i], keeps[i], keeps[i + 1]) for i in range(n)])


def _longest_run(flags: np.ndarray) -> tuple[int, int]:
    """(start, length) of the longest run of True in ``flags``; the first one on a tie."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    if not edges.size:
        return 0, 0
    starts, ends = edges[::2], edges[1::2]
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best] - starts[best])


def brightness_range(gray: np.ndarray, tail: float = 0.002) -> tuple[int, int]:
    """Brightness (0–255) of the darkest and brightest pixels of a grey image, ignoring a
    ``tail`` fraction at each end (a few stray pixels don't make an image high-contrast)."""
    counts = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel().cumsum()
    lo = int(np.searchsorted(counts, tail * counts[-1], side="right"))
    hi = int(np.searchsorted(counts, (1 - tail) * counts[-1]))
    return lo, max(lo, hi)


def stretch_contrast(gray: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """A grey image with brightness ``lo``–``hi`` stretched to 0–255: faint text (orange on
    orange, light grey on white) becomes dark on light, or light on dark, for the detector."""
    lut = np.clip((np.arange(256) - lo) * (255.0 / max(hi - lo, 1)), 0, 255).astype(np.uint8)
    return cv2.LUT(gray, lut)


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
