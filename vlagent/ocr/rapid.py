"""RapidOCR 3.x (PP-OCR models shipped inside the wheel, run by onnxruntime on the CPU),
tuned for screenshots.

RapidOCR supplies the models and their pre/post-processing; vlagent decides what they see:

- the detector sees the image at a pixel budget (a 1080p screenshot at 2/3 scale, which
  keeps 12 px UI text findable), tall images in overlapping bands, small crops enlarged —
  RapidOCR's default instead enlarges every image to 736 px on its short side, which blows
  a 22 px high crop up to ~2900×736 and loses its text;
- an image over 16 MP (a poster scan, a 100 MP canvas) is read a band of rows at a time, so
  its memory is that of one band;
- each line is cut out with extra room above and below, so the recogniser (which scales
  every line to 48 px high) gets a narrower input for the same text;
- the angle classifier is skipped: screenshots are upright;
- the work is cut into pieces (detector bands, text lines) that single-threaded workers take
  from one queue, because onnxruntime's own threads slow each other down on busy cores
  (:mod:`vlagent.ocr.pool`);
- an image whose brightness range is narrow is read a second time with its contrast
  stretched (orange on orange, light grey on white);
- a toolbar or tray icon read as a lone CJK character (a document icon as 目, a grid as 田)
  is dropped (:mod:`vlagent.ocr.filters`);
- lines come back in column-aware reading order (:mod:`vlagent.ocr.order`).

Nothing is downloaded: the wheel's model files are used as they are.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from vlagent.common import trim_heap
from vlagent.ocr.base import OcrLine, OcrResult
from vlagent.ocr.filters import drop_icon_readings
from vlagent.ocr.imageprep import (
    Tile,
    brightness_range,
    busy_area,
    chunk_scale,
    crop_line,
    plan_chunks,
    plan_detection,
    quiet_rows,
    split_plan,
    stretch_contrast,
    to_bgr,
)
from vlagent.ocr.order import reading_order
from vlagent.ocr.pool import ModelCopies, worker_count

DET_MULTIPLE = 32  # the detector's input sides must be multiples of this


@dataclass(frozen=True)
class RapidOcrConfig:
    min_score: float = 0.5  # drop lines the recogniser is less sure of
    threads: int = 0  # parallel workers, each with single-threaded models; 0 = one per core (pool.py)
    det_max_pixels: int = 1280 * 720  # detector budget per image (or per band)
    det_min_scale: float = 0.5  # below this, tall images are cut into bands instead
    small_side: int = 640  # images with a shorter longest side are...
    small_upscale: float = 2.0  # ...enlarged this much for the detector
    crop_pad: float = 0.1  # room added above and below each line, × its height
    # RapidOCR pads every line to at least 320 columns (6.7× its height); a fifth of the lines
    # on a screenshot are shorter, and the padding only costs time.
    rec_min_width: int = 48
    skip_empty: bool = True  # the detector reads only the part of each band where something changes
    enhance: bool = True  # low-contrast images get a second pass with stretched contrast
    enhance_max_spread: float = 100.0  # "low contrast": a narrower brightness range (of 0–255)
    idle_unload_s: float = 0.0  # free the models after this many idle seconds (0 = keep them)
    # A larger image is read in bands of about this many pixels, one after another, sharing
    # chunk_overlap rows (imageprep.plan_chunks): memory bounded whatever the image's size.
    chunk_pixels: int = 16_000_000
    chunk_overlap: int = 320
    # Icons read as a lone CJK character (目, 田, 口...) are dropped: one CJK character alone in
    # a box at most icon_max_aspect times as wide as high (a battery icon is 2:1) or the other way,
    # read twice under icon_min_score (filters.py; the values measured in bench/ocr_icons.py).
    icon_filter: bool = True
    icon_min_score: float = 0.99
    icon_max_aspect: float = 2.0

    def workers(self) -> int:
        return worker_count(self.threads, os.cpu_count() or 1)

    def rapidocr_params(self) -> dict:
        return {
            "Global.log_level": "error",  # "no text found" is an answer, not a warning
            "Global.text_score": 0.0,  # scores are filtered here, after recognition
            "Global.use_cls": False,
            # vlagent sizes the detector's input itself (plan_detection); RapidOCR must not.
            "Global.max_side_len": 1 << 30,
            "Global.width_height_ratio": -1,
            "Det.limit_type": "max",
            "Det.limit_side_len": 1 << 30,
            "Rec.rec_batch_num": 1,  # workers read one line per call (_recognize_line)
            "Rec.rec_img_shape": [3, 48, self.rec_min_width],
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            # RapidOCR turns the arena off; with it the detector runs 20% faster (the memory it
            # keeps is ~MEM MiB per worker, measured in bench/ocr.py).
            "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
        }


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, config: RapidOcrConfig | None = None, **overrides):
        base = config or RapidOcrConfig()
        self.config = RapidOcrConfig(**{**asdict(base), **overrides})
        self.model = "PP-OCRv6-small"
        self.pool = ModelCopies(self.config.workers(), self._load)
        self._lock = threading.Lock()  # one image at a time: its pieces keep every worker busy
        self._idle_timer: threading.Timer | None = None
        self._last_used = 0.0

    def variant(self, **changes) -> RapidOcrEngine:
        """An engine with some settings changed that shares this one's loaded models (and
        their lock) when the models' own options are unchanged — for comparing settings."""
        other = RapidOcrEngine(self.config, **changes)
        if self.config.rapidocr_params() == other.config.rapidocr_params() \
                and self.pool.size == other.pool.size:
            other.pool, other._lock, other.model = self.pool, self._lock, self.model
        return other

    def _load(self):
        from rapidocr import RapidOCR

        ocr = RapidOCR(params=self.config.rapidocr_params())
        det = ocr.cfg.Det
        self.model = f"{det.ocr_version.value}-{det.model_type.value}"
        return ocr

    def warm_up(self) -> None:
        """Load the models (about a second per worker, loaded in parallel) and run each once."""
        img = Image.new("RGB", (240, 60), "white")
        ImageDraw.Draw(img).text((10, 10), "Warm up 42", fill="black", font_size=32)
        bgr = to_bgr(img)
        with self._lock:
            self.pool.each(lambda ocr: ocr(bgr))

    def recognize(self, image: Image.Image) -> OcrResult:
        cfg = self.config
        timings: dict[str, float] = {}
        with self._lock:
            t0 = time.perf_counter()  # latency of this image, not of waiting for another one
            self.pool.models()
            timings["load_ms"] = _ms(t0)
            lines, passes = self._read_chunked(image, timings)
            self._last_used = time.monotonic()
        self._schedule_unload()
        t = time.perf_counter()
        lines = reading_order(lines)
        timings["order_ms"] = _ms(t)
        timings["workers"] = self.pool.size
        params = {**asdict(cfg), "passes": passes}
        return OcrResult(lines=lines, engine=self.name, model=self.model, latency_ms=_ms(t0),
                         params=params, timings={k: round(v, 3) for k, v in timings.items()})

    def _read_chunked(self, image: Image.Image, timings: dict) -> tuple[list[OcrLine], int]:
        """Read a huge image a band at a time (:func:`plan_chunks`): its memory is that of
        one band. An image within ``chunk_pixels`` (any screenshot up to 5K) is one band, read
        as it is."""
        cfg = self.config
        w, h = image.size
        scale = chunk_scale(w, h, max_pixels=cfg.chunk_pixels, overlap=cfg.chunk_overlap)
        if scale < 1.0:  # too wide for bands of whole rows: narrowed first (a new, smaller image)
            image = image.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
        chunks = plan_chunks(*image.size, max_pixels=cfg.chunk_pixels, overlap=cfg.chunk_overlap)
        if len(chunks) == 1 and scale == 1.0:
            return self._read_whole(image, timings)
        timings["chunks"] = len(chunks)
        lines, passes = [], 1
        for chunk in chunks:
            found, n = self._read_whole(image, timings, (0, chunk.y0, image.width, chunk.y1))
            passes = max(passes, n)
            for line in found:
                if chunk.keep0 <= chunk.y0 + sum(y for _, y in line.box) / 4 < chunk.keep1:
                    box = [[round(x / scale, 1), round((y + chunk.y0) / scale, 1)] for x, y in line.box]
                    lines.append(OcrLine(line.text, box, line.score))
        return lines, passes

    def _read_whole(self, image: Image.Image, timings: dict,
                    band: tuple[int, int, int, int] | None = None) -> tuple[list[OcrLine], int]:
        """Lines of an image (or of its ``band``, in the band's coordinates), and how many
        passes read it: a second one with the contrast stretched when its brightness range is
        narrow."""
        cfg = self.config
        bgr = to_bgr(image if band is None else image.crop(band))  # the band's copy is gone once converted
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        lines = self._read_parallel(bgr, gray, timings)
        lo, hi = brightness_range(gray)
        if not (cfg.enhance and hi - lo < cfg.enhance_max_spread):
            return lines, 1
        del bgr  # the second pass reads the stretched grey instead: one full-size colour copy at a time
        stretched = stretch_contrast(gray, lo, hi)
        return _merge(lines, self._read_parallel(cv2.cvtColor(stretched, cv2.COLOR_GRAY2BGR), stretched,
                                                 timings)), 2

    def _schedule_unload(self) -> None:
        if self.config.idle_unload_s <= 0:
            return
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = threading.Timer(self.config.idle_unload_s, self._unload_if_idle)
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _unload_if_idle(self) -> None:
        """The models (about 150 MB per worker) go; the next image loads them again (~1 s)."""
        if not self._lock.acquire(blocking=False):
            return  # an image is being read; it schedules the next check
        try:
            if time.monotonic() - self._last_used >= self.config.idle_unload_s * 0.99 and self.pool.loaded:
                self.pool.close()
                trim_heap()
        finally:
            self._lock.release()

    def _read_parallel(self, bgr: np.ndarray, gray: np.ndarray, timings: dict) -> list[OcrLine]:
        """Detect in bands and recognise line by line, the pieces shared among the workers."""
        cfg = self.config
        h, w = bgr.shape[:2]
        t = time.perf_counter()
        plan = plan_detection(w, h, max_pixels=cfg.det_max_pixels, min_scale=cfg.det_min_scale,
                              small_side=cfg.small_side, small_upscale=cfg.small_upscale)
        plan = split_plan(plan, self.pool.size, quiet_rows(gray))
        pieces = []  # (tile, its busy area in image coordinates)
        unit = DET_MULTIPLE / plan.scale
        for tile in plan.tiles:
            area = busy_area(gray[tile.y0:tile.y1]) if cfg.skip_empty else (0, 0, w, tile.y1 - tile.y0)
            if area is not None:
                # Whole multiples of the detector's grid: a crop the scale divides unevenly, or
                # one padded out to the grid, gets boxes 10–15% lower (more columns to read).
                x0, x1 = _snap(area[0], area[2], w, unit)
                y0, y1 = _snap(area[1], area[3], tile.y1 - tile.y0, unit)
                pieces.append((tile, (x0, tile.y0 + y0, x1, tile.y0 + y1)))
        found = self.pool.map(lambda ocr, piece: self._detect(ocr, bgr, *piece, plan.scale), pieces,
                              cost=lambda piece: _area(piece[1]))
        boxes = [box for piece_boxes in found for box in piece_boxes]
        _add(timings, "det_ms", _ms(t))
        _add(timings, "det_mpx", sum(_area(area) for _, area in pieces) * plan.scale ** 2 / 1e6)
        timings["det_scale"] = round(plan.scale, 3)
        timings["det_tiles"] = len(plan.tiles)
        if not boxes:
            return []
        t = time.perf_counter()
        read = self.pool.map(lambda ocr, box: self._recognize_line(ocr, bgr, box), boxes, cost=_columns)
        _add(timings, "rec_ms", _ms(t))
        _add(timings, "rec_kcols", sum(_columns(box) for box in boxes) / (1 + 2 * cfg.crop_pad) / 1000)
        _add(timings, "lines", len(boxes))
        lines = [line for line in read if line is not None]
        if cfg.icon_filter:
            t = time.perf_counter()
            kept = drop_icon_readings(
                lines, lambda found: self.pool.map(lambda ocr, line: self._second_look(ocr, bgr, line), found,
                                                   cost=lambda line: 1.0),
                min_score=cfg.icon_min_score, max_aspect=cfg.icon_max_aspect)
            _add(timings, "icon_ms", _ms(t))
            _add(timings, "icons_dropped", len(lines) - len(kept))
            lines = kept
        return lines

    def _second_look(self, ocr, bgr: np.ndarray, line: OcrLine) -> tuple[str, float]:
        """Read one glyph again with room around it: as much again as its height each side,
        in its own background colour (filters.drop_icon_readings)."""
        crop = crop_line(bgr, np.asarray(line.box, dtype=np.float32), self.config.crop_pad)
        edge = np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]])
        room = crop.shape[0]
        crop = cv2.copyMakeBorder(crop, 0, 0, room, room, cv2.BORDER_CONSTANT,
                                  value=[int(c) for c in np.median(edge, axis=0)])
        rec = ocr.recognize_txt([crop])
        return (rec.txts[0] or "").strip(), float(rec.scores[0])

    def _recognize_line(self, ocr, bgr: np.ndarray, box: np.ndarray) -> OcrLine | None:
        rec = ocr.recognize_txt([crop_line(bgr, box, self.config.crop_pad)])
        text, score = (rec.txts[0] or "").strip(), float(rec.scores[0])
        if not text or score < self.config.min_score:
            return None
        return OcrLine(text, [[round(float(x), 1), round(float(y), 1)] for x, y in box], score)

    def _detect(self, ocr, bgr: np.ndarray, tile: Tile, area: tuple[int, int, int, int],
                scale: float) -> list[np.ndarray]:
        """Boxes (4×2, original image coordinates) of the text lines that ``tile`` owns,
        looking only at ``area`` (x0, y0, x1, y1) of it."""
        h, w = bgr.shape[:2]
        x0, y0, x1, y1 = area
        det = ocr(_det_input(bgr[y0:y1, x0:x1], scale), use_det=True, use_cls=False, use_rec=False)
        if getattr(det, "boxes", None) is None:
            return []
        boxes = []
        for box in det.boxes:
            box = np.asarray(box, dtype=np.float32) / scale + (x0, y0)
            if not tile.keep0 <= float(box[:, 1].mean()) < tile.keep1:
                continue  # the neighbouring band sees this line whole
            box[:, 0] = box[:, 0].clip(0, w)
            box[:, 1] = box[:, 1].clip(0, h)
            bw, bh = np.ptp(box[:, 0]), np.ptp(box[:, 1])
            if bw < 2 or bh < 2:
                continue
            if bw > 0.9 * w and bh > 0.9 * h and not _line_shaped(w, h, self.config.small_side):
                continue  # the detector's known false alarm on smooth photos: "a line" as big as the picture
            boxes.append(box)
        return boxes


def _columns(box: np.ndarray) -> float:
    """Width of a line once the recogniser has scaled it to 48 px high: its cost."""
    w = max(np.linalg.norm(box[1] - box[0]), np.linalg.norm(box[2] - box[3]))
    h = max(np.linalg.norm(box[3] - box[0]), np.linalg.norm(box[2] - box[1]))
    long, short = (h, w) if h >= 1.5 * w else (w, h)  # crop_line turns vertical text
    return 48 * float(long) / max(float(short), 1.0)


def _snap(lo: int, hi: int, size: int, unit: float) -> tuple[int, int]:
    """The span lo–hi grown (evenly, within 0–size) to a whole number of ``unit``s."""
    span = min(size, round(math.ceil((hi - lo) / unit - 1e-9) * unit))
    lo = max(0, min(lo - (span - (hi - lo)) // 2, size - span))
    return lo, lo + span


def _area(area: tuple[int, int, int, int]) -> int:
    return (area[2] - area[0]) * (area[3] - area[1])


def _line_shaped(w: int, h: int, small_side: int) -> bool:
    """Could the whole image be one line of text? Small and elongated (a crop of a label or
    a word), or tiny (one character); a small photo is neither."""
    if max(w, h) >= small_side:
        return False
    return max(w, h) >= 2 * min(w, h) or min(w, h) <= 64


def _det_input(bgr: np.ndarray, scale: float) -> np.ndarray:
    """The image scaled for the detector and padded (with its edge colour) to sides that are
    multiples of 32, so RapidOCR's own rounding doesn't squash it."""
    if scale != 1.0:
        size = (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    h, w = bgr.shape[:2]
    ph, pw = -h % DET_MULTIPLE, -w % DET_MULTIPLE
    if ph or pw:
        edge = np.concatenate([bgr[0], bgr[-1], bgr[:, 0], bgr[:, -1]])
        colour = [int(c) for c in np.median(edge, axis=0)]
        bgr = cv2.copyMakeBorder(bgr, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=colour)
    return bgr


def _merge(first: list[OcrLine], second: list[OcrLine]) -> list[OcrLine]:
    """Lines of two readings of one image; where both found a line, the surer reading wins."""
    kept = list(first)
    for line in second:
        rivals = [old for old in kept if _same_place(line, old)]
        if all(line.score > old.score for old in rivals):
            kept = [old for old in kept if old not in rivals] + [line]
    return kept


def _same_place(a: OcrLine, b: OcrLine) -> bool:
    """True when two lines' boxes overlap by more than half of the smaller one."""
    (al, at, ar, ab), (bl, bt, br, bb) = a.bounds, b.bounds
    iw, ih = min(ar, br) - max(al, bl), min(ab, bb) - max(at, bt)
    if iw <= 0 or ih <= 0:
        return False
    return iw * ih > 0.5 * min((ar - al) * (ab - at), (br - bl) * (bb - bt))


def _add(timings: dict, key: str, value: float) -> None:
    timings[key] = timings.get(key, 0.0) + value


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
