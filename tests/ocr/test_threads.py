"""The per-image thread choice, driven by a simulated machine whose load changes."""

from vlagent.ocr.threads import ThreadChooser, expected_ms, thread_options


def run(chooser, cost_of, images):
    picks = []
    for _ in range(images):
        t = chooser.pick()
        picks.append(t)
        chooser.record(t, model_ms=cost_of(t) * 1000, work_ms=1000)
    return picks


def test_options_are_all_half_and_one_core():
    assert thread_options(2) == [2, 1]
    assert thread_options(8) == [8, 4, 1]
    assert thread_options(1) == [1]


def test_idle_cores_settle_on_all_threads_and_busy_cores_on_one():
    idle = {2: 1.0, 1: 1.8}  # two threads ~1.8x faster on idle cores
    busy = {2: 4.0, 1: 2.0}  # and ~2x slower when other programs hold the cores
    chooser = ThreadChooser([2, 1], probe_every=10)
    picks = run(chooser, idle.get, 30)
    assert picks[0] == 2 and 1 in picks[:3]  # both measured early
    assert picks[10:].count(2) >= 17  # then mostly the faster one, with rare probes
    picks = run(chooser, busy.get, 40)  # the machine gets busy
    assert picks[-20:].count(1) >= 17
    picks = run(chooser, idle.get, 40)  # and idle again: a probe finds out
    assert picks[-20:].count(2) >= 17


def test_fixed_thread_count_is_never_changed_and_tiny_work_is_not_measured():
    fixed = ThreadChooser([3])
    assert {fixed.pick() for _ in range(20)} == {3}
    chooser = ThreadChooser([2, 1])
    chooser.record(2, model_ms=500, work_ms=5)  # a 20×10 crop: fixed overheads, not threads
    assert chooser.slowness == {}


def test_expected_work_grows_with_pixels_and_columns():
    assert expected_ms(1.0, 0) < expected_ms(1.0, 10) < expected_ms(2.0, 10)
