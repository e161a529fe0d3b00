"""RapidOCR 3.x (PP-OCR models shipped inside the wheel, run by onnxruntime on the CPU),
tuned for screenshots.

RapidOCR supplies the models and their pre/post-processing; vlagent decides what they see:

- the detector sees the image at a pixel budget (a 1080p screenshot at 2/3 scale, which
  keeps 12 px UI text findable), tall images in overlapping bands, small crops enlarged —
  RapidOCR's default instead enlarges every image to 736 px on its short side, which blows
  a 22 px high crop up to ~2900×736 and loses its text;
- each line is cut out with extra room above and below, so the recogniser (which scales
  every line to 48 px high) gets a narrower input for the same text;
- the angle classifier is skipped: screenshots are upright;
- the number of onnxruntime threads is chosen per image from measured speed, because
  threads that must share busy cores slow each other down (:mod:`vlagent.ocr.threads`);
- an image whose brightness range is narrow is read a second time with its contrast
  stretched (orange on orange, light grey on white);
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

from vlagent.ocr.base import OcrLine, OcrResult
from vlagent.ocr.imageprep import contrast_spread, crop_line, plan_detection, stretch_contrast, to_bgr
from vlagent.ocr.order import reading_order
from vlagent.ocr.threads import ThreadChooser, expected_ms, thread_options

DET_MULTIPLE = 32  # the detector's input sides must be multiples of this


@dataclass(frozen=True)
class RapidOcrConfig:
    min_score: float = 0.5  # drop lines the recogniser is less sure of
    threads: int = 0  # onnxruntime threads; 0 = chosen per image from measured speed (threads.py)
    det_max_pixels: int = 1280 * 720  # detector budget per image (or per band)
    det_min_scale: float = 0.5  # below this, tall images are cut into bands instead
    small_side: int = 640  # images with a shorter longest side are...
    small_upscale: float = 2.0  # ...enlarged this much for the detector
    crop_pad: float = 0.1  # room added above and below each line, × its height
    rec_batch: int = 1  # lines per recogniser call
    enhance: bool = True  # low-contrast images get a second pass with stretched contrast
    enhance_max_spread: float = 100.0  # "low contrast": a narrower brightness range (of 0–255)

    def thread_options(self) -> list[int]:
        return [self.threads] if self.threads else thread_options(os.cpu_count() or 1)

    def rapidocr_params(self, threads: int) -> dict:
        return {
            "Global.log_level": "error",  # "no text found" is an answer, not a warning
            "Global.text_score": 0.0,  # scores are filtered here, after recognition
            "Global.use_cls": False,
            # vlagent sizes the detector's input itself (plan_detection); RapidOCR must not.
            "Global.max_side_len": 1 << 30,
            "Global.width_height_ratio": -1,
            "Det.limit_type": "max",
            "Det.limit_side_len": 1 << 30,
            "Rec.rec_batch_num": self.rec_batch,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, config: RapidOcrConfig | None = None, **overrides):
        base = config or RapidOcrConfig()
        self.config = RapidOcrConfig(**{**asdict(base), **overrides})
        self.model = "PP-OCRv6-small"
        self._models: dict[int, object] = {}  # thread count → RapidOCR (its onnxruntime sessions)
        self.thread_chooser = ThreadChooser(self.config.thread_options())
        self._lock = threading.Lock()  # the sessions serve one image at a time

    def variant(self, **changes) -> "RapidOcrEngine":
        """An engine with some settings changed that shares this one's loaded models (and
        their lock) when the models' own options are unchanged — for comparing settings."""
        other = RapidOcrEngine(self.config, **changes)
        mine, theirs = self.config, other.config
        if (mine.threads, mine.rec_batch) == (theirs.threads, theirs.rec_batch):
            other._models, other.thread_chooser, other._lock = self._models, self.thread_chooser, self._lock
            other.model = self.model
        return other

    def _engine(self, threads: int):
        if threads not in self._models:
            from rapidocr import RapidOCR

            ocr = RapidOCR(params=self.config.rapidocr_params(threads))
            det = ocr.cfg.Det
            self.model = f"{det.ocr_version.value}-{det.model_type.value}"
            self._models[threads] = ocr
        return self._models[threads]

    def warm_up(self) -> None:
        """Load the models (about a second per thread count) before the first real image."""
        img = Image.new("RGB", (240, 60), "white")
        ImageDraw.Draw(img).text((10, 10), "Warm up 42", fill="black", font_size=32)
        with self._lock:
            for threads in self.config.thread_options():
                self._read(self._engine(threads), to_bgr(img), {})

    def recognize(self, image: Image.Image) -> OcrResult:
        cfg = self.config
        timings: dict[str, float] = {}
        with self._lock:
            t0 = time.perf_counter()  # latency of this image, not of waiting for another one
            threads = self.thread_chooser.pick()
            ocr = self._engine(threads)
            bgr = to_bgr(image)
            lines = self._read(ocr, bgr, timings)
            passes = 1
            if cfg.enhance and contrast_spread(bgr) < cfg.enhance_max_spread:
                passes = 2
                lines = _merge(lines, self._read(ocr, stretch_contrast(bgr), timings))
            self.thread_chooser.record(threads, timings.get("det_ms", 0) + timings.get("rec_ms", 0),
                                 expected_ms(timings.get("det_mpx", 0), timings.get("rec_kcols", 0)))
        t = time.perf_counter()
        lines = reading_order(lines)
        timings["order_ms"] = _ms(t)
        timings["threads"] = threads
        params = {**asdict(cfg), "passes": passes}
        return OcrResult(lines=lines, engine=self.name, model=self.model, latency_ms=_ms(t0),
                         params=params, timings={k: round(v, 3) for k, v in timings.items()})

    def _read(self, ocr, bgr: np.ndarray, timings: dict) -> list[OcrLine]:
        boxes = self._detect(ocr, bgr, timings)
        if not boxes:
            return []
        t = time.perf_counter()
        crops = [crop_line(bgr, box, self.config.crop_pad) for box in boxes]
        rec = ocr.recognize_txt(crops)
        _add(timings, "rec_ms", _ms(t))
        _add(timings, "rec_kcols", sum(math.ceil(48 * c.shape[1] / c.shape[0]) for c in crops) / 1000)
        _add(timings, "lines", len(crops))
        lines = []
        for box, text, score in zip(boxes, rec.txts, rec.scores):
            text = (text or "").strip()
            if text and score >= self.config.min_score:
                lines.append(OcrLine(text, [[round(float(x), 1), round(float(y), 1)] for x, y in box], float(score)))
        return lines

    def _detect(self, ocr, bgr: np.ndarray, timings: dict) -> list[np.ndarray]:
        """Boxes (4×2, original image coordinates) of the text lines in ``bgr``."""
        cfg = self.config
        h, w = bgr.shape[:2]
        plan = plan_detection(w, h, max_pixels=cfg.det_max_pixels, min_scale=cfg.det_min_scale,
                              small_side=cfg.small_side, small_upscale=cfg.small_upscale)
        boxes = []
        t = time.perf_counter()
        for tile in plan.tiles:
            band = _det_input(bgr[tile.y0:tile.y1], plan.scale)
            _add(timings, "det_mpx", band.shape[0] * band.shape[1] / 1e6)
            det = ocr(band, use_det=True, use_cls=False, use_rec=False)
            if getattr(det, "boxes", None) is None:
                continue
            for box in det.boxes:
                box = np.asarray(box, dtype=np.float32) / plan.scale
                box[:, 1] += tile.y0
                if not tile.keep0 <= float(box[:, 1].mean()) < tile.keep1:
                    continue  # the neighbouring band sees this line whole
                box[:, 0] = box[:, 0].clip(0, w)
                box[:, 1] = box[:, 1].clip(0, h)
                bw, bh = np.ptp(box[:, 0]), np.ptp(box[:, 1])
                if bw < 2 or bh < 2:
                    continue
                if bw > 0.9 * w and bh > 0.9 * h and not _line_shaped(w, h, cfg.small_side):
                    continue  # the detector's known false alarm on smooth photos: "a line" as big as the picture
                boxes.append(box)
        _add(timings, "det_ms", _ms(t))
        timings["det_scale"] = round(plan.scale, 3)
        timings["det_tiles"] = len(plan.tiles)
        return boxes


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
    (al, at, ar, ab), (bl, bt, br, bb) = _bounds(a), _bounds(b)
    iw, ih = min(ar, br) - max(al, bl), min(ab, bb) - max(at, bt)
    if iw <= 0 or ih <= 0:
        return False
    return iw * ih > 0.5 * min((ar - al) * (ab - at), (br - bl) * (bb - bt))


def _bounds(line: OcrLine) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in line.box], [p[1] for p in line.box]
    return min(xs), min(ys), max(xs), max(ys)


def _add(timings: dict, key: str, value: float) -> None:
    timings[key] = timings.get(key, 0.0) + value


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000
