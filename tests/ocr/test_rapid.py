"""The tuned RapidOCR engine on generated images: what it reads, in which order, and that
odd inputs don't break it. Ground truth comes from the generators in vlagent.samples."""

import threading
import time

import pytest
from PIL import Image

from vlagent import samples
from vlagent.eval.metrics import cer
from vlagent.ocr import OcrEngine, OcrResult, create_engine


def read(engine, img) -> OcrResult:
    res = engine.recognize(img)
    assert isinstance(res, OcrResult)
    return res


def test_engine_satisfies_the_protocol(engine):
    assert isinstance(engine, OcrEngine)


def test_english_lines_read_exactly(engine):
    lines = ["Invoice number 2024-0193", "Total due: 42.50 EUR", "Error: connection refused"]
    res = read(engine, samples.text_image(lines, font_size=28))
    assert res.text == "\n".join(lines)
    assert all(0.5 <= l.score <= 1.0 for l in res.lines)


def test_chinese_lines_read_exactly(engine):
    lines = ["图片中有一只小狗站在雪地上", "数据库连接失败，请检查网络设置", "发票号码二零二四零一九三"]
    res = read(engine, samples.text_image(lines, font_size=28))
    assert cer("\n".join(lines), res.text) <= 0.02
    assert "小狗" in res.text and "数据库连接失败" in res.text


def test_1080p_screenshot_reads_in_reading_order_with_boxes_and_timings(engine):
    img, truth = samples.screenshot_like(1920, 1080, lang="mixed", seed=3)
    res = read(engine, img)
    assert cer("\n".join(truth), res.text) <= 0.02  # order counts: title, sidebar, then the page
    assert len(res.lines) == len(truth)
    for l in res.lines:
        xs, ys = [p[0] for p in l.box], [p[1] for p in l.box]
        assert 0 <= min(xs) < max(xs) <= 1920 and 0 <= min(ys) < max(ys) <= 1080
    assert res.latency_ms > 0 and res.timings["det_ms"] > 0 and res.timings["rec_ms"] > 0
    assert res.timings["det_scale"] == pytest.approx(2 / 3, abs=0.01)
    assert res.params["passes"] == 1 and res.model.startswith("PP-OCR")
    assert res.timings["workers"] == engine.pool.size
    assert res.timings["rec_kcols"] > 5
    assert 0.2 < res.timings["det_mpx"] < 0.5 * 1280 * 720 / 1e6  # the empty right half of the page is skipped
    assert res.timings["det_tiles"] == min(2, engine.pool.size)  # cut in a gap between lines, read in parallel


def test_small_ui_crop_is_read(engine):
    # RapidOCR's default sizing blows this 172×22 crop up to ~2900×736 and finds nothing.
    assert read(engine, samples.ui_label("Save changes")).text == "Save changes"
    assert read(engine, samples.ui_label("保存更改")).text == "保存更改"


def test_low_contrast_text_is_read_thanks_to_the_contrast_pass(engine):
    lines = ["Limited offer ends Sunday", "限时优惠周日结束"]
    banner, _ = samples.low_contrast_text(lines, bg=(200, 200, 200), fg=(194, 194, 194), font_size=20)
    page = Image.new("RGB", (1280, 720), (200, 200, 200))
    page.paste(banner, (300, 250))
    without = read(engine.variant(enhance=False), page)
    res = read(engine, page)
    assert res.params["passes"] == 2
    assert cer("\n".join(lines), res.text) <= 0.02
    assert cer("\n".join(lines), without.text) > 0.5  # the first pass alone misses it


def test_two_column_page_reads_column_by_column(engine):
    img, truth = samples.two_column_page(seed=4)
    res = read(engine, img)
    assert cer("\n".join(truth), res.text) <= 0.03
    xs = [min(p[0] for p in l.box) for l in res.lines]
    half = img.width / 2
    first_right = next(i for i, x in enumerate(xs) if x > half)
    assert all(x > half for x in xs[first_right:])  # never back to the left column


def test_image_without_text_gives_no_lines(engine):
    photos = [samples.photo_like(seed=100), samples.photo_like(seed=105),  # 105: the detector alone
              samples.photo_like(320, 200, seed=7)]  # reports the whole photo as one "line"; 7 too, small
    for photo in photos:
        res = read(engine, photo)
        assert res.lines == [] and res.text == ""


def test_a_small_image_that_is_one_word_is_still_read(engine):
    assert read(engine, samples.text_image(["OK"], font_size=40)).text == "OK"


@pytest.mark.parametrize("size", [(1, 1), (3, 500), (500, 2)])
def test_degenerate_sizes_do_not_crash(engine, size):
    assert read(engine, Image.new("RGB", size, "white")).lines == []


def test_other_image_modes_are_accepted(engine):
    rgba = samples.text_image("Transparent 42", font_size=30).convert("RGBA")
    assert read(engine, rgba).text == "Transparent 42"
    assert read(engine, samples.text_image("Grey 42", font_size=30).convert("L")).text == "Grey 42"


def test_very_wide_image_is_read(engine):
    line = "Build 1287 passed " * 25
    img = samples.text_image(line.strip(), font_size=24)
    assert img.width > 5000 and img.width > 60 * img.height
    assert cer(line.strip(), read(engine, img).text) <= 0.02


def test_tall_image_is_read_in_bands_without_losing_or_repeating_lines(engine):
    img, truth = samples.screenshot_like(1000, 3000, lang="en", seed=11, font_size=18)
    res = read(engine.variant(det_max_pixels=600_000, det_min_scale=0.667), img)
    assert res.timings["det_tiles"] >= 3
    assert cer("\n".join(truth), res.text) <= 0.02
    assert len(res.lines) == len(truth)


def test_create_engine_follows_the_settings(settings):
    settings.set("ocr.det_max_pixels", 640 * 360)
    settings.set("ocr.min_score", 0.8)
    settings.set("ocr.enhance_low_contrast", False)
    settings.set("ocr.threads", 3)
    eng = create_engine(settings)
    assert eng.config.det_max_pixels == 640 * 360 and eng.config.min_score == 0.8 and not eng.config.enhance
    img, _ = samples.screenshot_like(1280, 720, lang="en", seed=2)
    res = eng.recognize(img)
    assert res.timings["det_scale"] == pytest.approx(0.5, abs=0.01) and res.timings["workers"] == 3
    assert res.timings["det_tiles"] == 2  # 720 rows: two parts of at least 320
    assert res.lines and min(l.score for l in res.lines) >= 0.8


def test_every_worker_runs_single_threaded_models_and_a_page_keeps_them_all_busy():
    from vlagent.ocr.rapid import RapidOcrEngine

    eng = RapidOcrEngine(threads=2)
    img, truth = samples.screenshot_like(1920, 1080, lang="en", seed=5, font_size=16)
    used = []
    original = eng._recognize_line
    eng._recognize_line = lambda ocr, bgr, box: used.append(id(ocr)) or original(ocr, bgr, box)
    res = eng.recognize(img)
    assert cer("\n".join(truth), res.text) <= 0.02 and len(res.lines) == len(truth)
    models = eng.pool.models()
    assert len(models) == 2 and set(used) == {id(m) for m in models}  # both workers read lines
    for ocr in models:
        for part in (ocr.text_det, ocr.text_rec):
            opts = part.session.session.get_session_options()
            assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (1, 1)
    assert eng.recognize(samples.ui_label("OK")).timings["det_tiles"] == 1  # too small to split


def test_detector_crops_grow_to_whole_grid_units_inside_the_image():
    from vlagent.ocr.rapid import _snap

    assert _snap(301, 1920, 1920, 48) == (288, 1920)  # 1,619 → 1,632 px = 34 × 48, kept inside
    assert _snap(100, 200, 1000, 48) == (78, 222)  # grown evenly on both sides
    assert _snap(0, 50, 40, 48) == (0, 40)  # never beyond the image


def test_idle_models_are_freed_and_the_next_image_loads_them_again():
    import time

    from vlagent.ocr.rapid import RapidOcrEngine

    eng = RapidOcrEngine(threads=1, idle_unload_s=0.5)
    assert eng.recognize(samples.ui_label("Save changes")).text == "Save changes"
    old = eng.pool.models()[0]
    deadline = time.monotonic() + 10
    while eng.pool.loaded and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not eng.pool.loaded
    res = eng.recognize(samples.ui_label("保存更改"))
    assert res.text == "保存更改" and eng.pool.models()[0] is not old  # loaded again


class HandTimers:
    """``threading`` for the engine, with ``Timer``s the test fires by hand (and a clock it moves)."""

    def __init__(self):
        self.made: list[HandTimer] = []
        self.now = 1000.0

    def Timer(self, interval, fn):  # noqa: N802 - threading's name
        self.made.append(HandTimer(interval, fn))
        return self.made[-1]

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name):  # the rest of threading and time
        return getattr(threading, name) if hasattr(threading, name) else getattr(time, name)


class HandTimer:
    daemon = False

    def __init__(self, interval, fn):
        self.interval, self.fn = interval, fn
        self.started = self.cancelled = False

    def start(self):
        self.started = True

    def cancel(self):
        self.cancelled = True

    def fire_on_a_thread(self):
        """Run the check as its timer thread would (joined: it must not block)."""
        t = threading.Thread(target=self.fn)
        t.start()
        t.join(30)
        assert not t.is_alive()


def test_models_stay_by_default(engine, monkeypatch):
    from vlagent.ocr import rapid

    hand = HandTimers()
    monkeypatch.setattr(rapid, "threading", hand)
    assert engine.config.idle_unload_s == 0  # the engine as built here: never unloads
    engine.recognize(samples.ui_label("OK"))
    assert hand.made == [] and engine.pool.loaded  # no idle check is even scheduled


def test_each_image_restarts_the_idle_clock_and_an_engine_in_use_is_not_unloaded(monkeypatch):
    from vlagent.ocr import rapid

    hand = HandTimers()
    monkeypatch.setattr(rapid, "threading", hand)
    monkeypatch.setattr(rapid, "time", hand)
    eng = rapid.RapidOcrEngine(threads=1, idle_unload_s=1.0)
    eng.recognize(samples.ui_label("OK"))
    (first,) = hand.made
    assert first.started and first.interval == 1.0
    hand.now += 0.6
    eng.recognize(samples.ui_label("OK"))  # restarts the idle clock
    assert first.cancelled and len(hand.made) == 2 and hand.made[1].started
    hand.now += 0.6  # 1.2 s after the first image, 0.6 s after the second
    first.fire_on_a_thread()  # a check already under way when it was cancelled
    assert eng.pool.loaded
    hand.now += 0.6  # 1.2 s idle: due, but an image is being read
    with eng._lock:
        hand.made[1].fire_on_a_thread()
    assert eng.pool.loaded
    hand.made[1].fire_on_a_thread()
    assert not eng.pool.loaded
