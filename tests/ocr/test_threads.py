"""The per-image thread choice. The chooser's decisions are driven by fed measurements (a
simulated machine whose load changes), so they are exact; the engine tests check that the
engine uses what the chooser picks, feeds it the real measurements, and that an explicit
thread count overrides the choice."""

import os

import pytest

from vlagent.dev import samples
from vlagent.ocr.rapid import RapidOcrEngine
from vlagent.ocr.threads import MIN_WORK_MS, ThreadChooser, expected_ms, thread_options

IDLE = {2: 1.0, 1: 1.8}  # two threads ~1.8x faster on idle cores
BUSY = {2: 4.0, 1: 2.0}  # and ~2x slower when other programs hold the cores


def run(chooser, slowness_of, images):
    """Picks for ``images`` images on a machine where option t takes slowness_of[t] s per s of work."""
    picks = []
    for _ in range(images):
        t = chooser.pick()
        picks.append(t)
        chooser.record(t, model_ms=slowness_of[t] * 1000, work_ms=1000)
    return picks


def test_options_are_all_half_and_one_core():
    assert thread_options(2) == [2, 1]
    assert thread_options(8) == [8, 4, 1]
    assert thread_options(1) == [1]


def test_every_option_is_measured_early_but_not_back_to_back():
    chooser = ThreadChooser([8, 4, 1], probe_every=100)
    speeds = {8: 1.0, 4: 1.5, 1: 3.0}
    assert run(chooser, speeds, 5) == [8, 4, 8, 1, 8]  # the best so far between the first tries
    assert chooser.slowness == {8: 1.0, 4: 1.5, 1: 3.0}


@pytest.mark.parametrize("fed,expected", [
    ({2: 300, 1: 600}, 2),  # two threads did the same work in half the time
    ({2: 900, 1: 600}, 1),  # two threads slower than one: busy cores
])
def test_the_least_slow_option_is_picked(fed, expected):
    chooser = ThreadChooser([2, 1], probe_every=100)
    for threads, ms in fed.items():
        chooser.record(threads, model_ms=ms, work_ms=1000)
    assert [chooser.pick() for _ in range(20)] == [expected] * 20


def test_slowness_is_time_per_unit_of_work_not_raw_time():
    chooser = ThreadChooser([2, 1], probe_every=100)
    chooser.record(2, model_ms=900, work_ms=1500)  # a big page: long, but 0.6 ms per ms of work
    chooser.record(1, model_ms=400, work_ms=500)  # a small one: short, but 0.8
    assert chooser.slowness == pytest.approx({2: 0.6, 1: 0.8})
    assert chooser.pick() == 2


def test_idle_cores_settle_on_all_threads_busy_ones_on_one_and_back_within_one_probe():
    chooser = ThreadChooser([2, 1], probe_every=10)
    picks = run(chooser, IDLE, 30)
    assert picks[:3] == [2, 1, 2]
    assert picks[3:] == [1 if n % 10 == 0 else 2 for n in range(4, 31)]  # a probe every 10th image
    picks = run(chooser, BUSY, 30)  # the machine gets busy: two threads measure 4x
    switched = picks.index(1)
    assert switched <= 2 and picks[switched:].count(2) <= 3  # moves at once, probes 2 rarely
    picks = run(chooser, IDLE, 30)  # idle again: the next probe of 2 finds out
    back = picks.index(2)
    assert back < 10 and picks[back:].count(1) <= 3


def test_the_option_in_use_averages_its_measurements_a_probe_replaces_a_stale_value():
    chooser = ThreadChooser([2, 1], probe_every=1000, memory=0.5)
    assert run(chooser, IDLE, 3) == [2, 1, 2]
    assert chooser.pick() == 2
    chooser.record(2, model_ms=1600, work_ms=1000)  # one noisy image on the option in use...
    assert chooser.slowness[2] == pytest.approx(0.5 * 1.0 + 0.5 * 1.6)  # ...moves it half way
    assert run(chooser, IDLE, 30) == [2] * 30
    chooser.record(1, model_ms=900, work_ms=1000)  # 1 measured again after 32 images
    assert chooser.slowness[1] == pytest.approx(0.9, abs=1e-6)  # 1.8 from long ago is forgotten
    assert chooser.pick() == 1


def test_probes_go_to_the_option_measured_longest_ago():
    chooser = ThreadChooser([4, 2, 1], probe_every=5)
    run(chooser, {4: 1.0, 2: 2.0, 1: 3.0}, 5)
    picks = run(chooser, {4: 1.0, 2: 2.0, 1: 3.0}, 20)
    assert [t for t in picks if t != 4] == [1, 2, 1, 2]  # images 10, 15, 20, 25


def test_fixed_thread_count_is_never_changed_and_tiny_work_or_unknown_counts_teach_nothing():
    fixed = ThreadChooser([3])
    fixed.record(1, model_ms=1, work_ms=1000)
    assert {fixed.pick() for _ in range(20)} == {3}
    chooser = ThreadChooser([2, 1])
    chooser.record(2, model_ms=500, work_ms=MIN_WORK_MS - 1)  # a 20×10 crop: overheads, not threads
    chooser.record(4, model_ms=100, work_ms=1000)  # not an option here
    assert chooser.slowness == {}
    chooser.record(2, model_ms=500, work_ms=MIN_WORK_MS)
    assert chooser.slowness == {2: pytest.approx(500 / MIN_WORK_MS)}


def test_expected_work_grows_with_pixels_and_columns():
    assert expected_ms(0, 0) == 0
    assert expected_ms(1.0, 0) < expected_ms(1.0, 10) < expected_ms(2.0, 10)


# --- the engine ----------------------------------------------------------------------------

def onnx_threads(engine) -> dict[int, tuple[int, int]]:
    """Loaded models: thread count → intra-op threads of their detector and recogniser sessions."""
    return {t: tuple(m.session.session.get_session_options().intra_op_num_threads for m in (ocr.text_det, ocr.text_rec))
            for t, ocr in engine._models.items()}


LINES = ["Thread choice 2024", "线程选择测试"]


@pytest.fixture(scope="module")
def page(cjk_font_path):
    img = samples.text_image(LINES, font_size=28)
    assert max(img.size) < 640  # enlarged for the detector: enough work to be measured
    return img


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two thread counts to choose from")
@pytest.mark.parametrize("faster", ["fewest", "most"])
def test_engine_reads_with_the_chosen_thread_count_and_reports_what_it_measured(page, faster):
    engine = RapidOcrEngine()
    chooser = engine.thread_chooser
    most, fewest = chooser.options[0], chooser.options[-1]
    want, other = (fewest, most) if faster == "fewest" else (most, fewest)
    chooser.record(want, model_ms=100, work_ms=1000)
    chooser.record(other, model_ms=5000, work_ms=1000)
    res = engine.recognize(page)
    assert res.text == "\n".join(LINES)
    assert res.timings["threads"] == want
    assert onnx_threads(engine) == {want: (want, want)}  # only that model was loaded, and used
    assert chooser.slowness[want] != pytest.approx(0.1)  # the real measurement was fed back
    assert chooser.slowness[other] == pytest.approx(5.0)
    before = dict(chooser.slowness)
    engine.recognize(samples.ui_label("OK"))  # too little work to say anything about threads
    assert chooser.slowness == before


def test_explicit_thread_count_wins_over_measurements(page):
    engine = RapidOcrEngine(threads=1)
    assert engine.thread_chooser.options == [1]
    engine.thread_chooser.record(2, model_ms=1, work_ms=1000)  # "two threads are far faster"
    results = [engine.recognize(page) for _ in range(3)]
    assert [r.timings["threads"] for r in results] == [1, 1, 1]
    assert results[0].text == "\n".join(LINES)
    assert onnx_threads(engine) == {1: (1, 1)}
