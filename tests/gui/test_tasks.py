"""Background tasks: results come back on the GUI thread; with a key, only the newest of the
tasks queued behind a running one runs (typing fast runs the last query only)."""

from __future__ import annotations

import threading

from vlagent.gui.tasks import TaskThread


def test_results_arrive_on_the_gui_thread_and_stale_keyed_tasks_are_skipped(qtbot):
    tasks = TaskThread("test")
    gate, started = threading.Event(), threading.Event()
    ran, delivered = [], []
    main = threading.get_ident()

    def job(name):
        def run():
            if name == "q1":
                started.set()
                gate.wait(5)
            ran.append(name)
            return name
        return run

    def done(result):
        delivered.append((result, threading.get_ident() == main))

    tasks.submit(job("q1"), done, key="search")
    assert started.wait(5)
    for name in ("q2", "q3", "q4"):
        tasks.submit(job(name), done, key="search")
    gate.set()
    qtbot.waitUntil(lambda: ("q4", True) in delivered)
    # q1 was already running; q2 and q3 were replaced by q4 before they started, and q1's
    # result was dropped because a newer one had been asked for.
    assert ran == ["q1", "q4"]
    assert delivered == [("q4", True)]
    tasks.stop()


def test_errors_go_to_on_error_and_unkeyed_tasks_all_run(qtbot):
    tasks = TaskThread("test")
    errors, results = [], []
    tasks.submit(lambda: 1 / 0, results.append, errors.append)
    for i in range(3):
        tasks.submit(lambda i=i: i, results.append)
    qtbot.waitUntil(lambda: len(results) == 3)
    assert results == [0, 1, 2]
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)
    tasks.stop()


def test_thousands_of_results_are_delivered_without_harm(qtbot):
    """PySide6 6.12.0 lost a reference to True on every Signal.emit(): a few hundred deliveries
    aborted the interpreter. The pinned binding must not; the app refuses to start on one that does."""
    import sys

    from vlagent.gui.app import signal_emit_leaks

    assert not signal_emit_leaks()
    tasks = TaskThread("test")
    results = []
    before = sys.getrefcount(True)
    for i in range(3000):
        tasks.submit(lambda i=i: i % 2 == 0, results.append)
    qtbot.waitUntil(lambda: len(results) == 3000, timeout=60_000)
    assert results[:4] == [True, False, True, False]
    assert sys.getrefcount(True) >= before - 10  # no steady loss (a few may be held elsewhere)
    tasks.stop()
