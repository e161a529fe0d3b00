"""The OCR worker pool: pieces shared out largest first, results in order, errors raised."""

import threading

import pytest

from vlagent.ocr.pool import MAX_WORKERS, ModelCopies, worker_count


class Models:
    def __init__(self, n):
        self.n = n
        self.done = []


def counter_pool(size):
    made = []

    def load():
        made.append(Models(len(made)))
        return made[-1]

    return ModelCopies(size, load), made


def test_worker_count_follows_the_setting_or_the_cores():
    assert worker_count(3, 16) == 3
    assert worker_count(0, 2) == 2 and worker_count(0, 1) == 1
    assert worker_count(0, 64) == MAX_WORKERS


def test_models_load_lazily_once_per_worker():
    pool, made = counter_pool(3)
    assert not pool.loaded and made == []
    pool.map(lambda m, x: x, [1], cost=float)
    pool.map(lambda m, x: x, [1, 2], cost=float)
    assert pool.loaded and len(made) == 3


def test_results_come_back_in_item_order_and_work_is_shared():
    pool, made = counter_pool(2)
    both_started = threading.Barrier(2, timeout=30)  # each worker's first piece waits for the other's

    def work(models, item):
        models.done.append(item)
        if len(models.done) == 1:
            both_started.wait()
        return item * 10

    items = [3, 1, 4, 1, 5, 9, 2, 6]
    assert pool.map(work, items, cost=float) == [i * 10 for i in items]
    assert all(m.done for m in made)  # both workers took pieces
    assert sorted(made[0].done + made[1].done) == sorted(items)
    first = [m.done[0] for m in made]
    assert sorted(first) == [6, 9]  # the costliest pieces go first


def test_a_slow_worker_takes_fewer_pieces():
    """Worker 0 is stuck on its first piece (a busy core) until worker 1 has done all the
    others: pieces are taken from one queue, not split between the workers in advance."""
    pool, _ = counter_pool(2)
    counts = {0: 0, 1: 0}
    zero_started, others_done = threading.Event(), threading.Event()

    def work(models, item):
        counts[models.n] += 1
        if models.n == 0:
            zero_started.set()
            assert others_done.wait(30), "worker 1 did not take the other pieces"
        else:
            assert zero_started.wait(30)
            if counts[1] == 19:
                others_done.set()
        return item

    assert pool.map(work, list(range(20)), cost=float) == list(range(20))
    assert counts == {0: 1, 1: 19}


def test_the_first_error_is_raised_and_the_pool_still_works():
    pool, _ = counter_pool(2)

    def work(models, item):
        if item == 3:
            raise ValueError("bad piece")
        return item

    with pytest.raises(ValueError, match="bad piece"):
        pool.map(work, list(range(6)), cost=float)
    assert pool.map(work, [1, 2], cost=float) == [1, 2]


def test_each_runs_on_every_worker_and_an_empty_map_loads_nothing_else():
    pool, made = counter_pool(3)
    assert sorted(pool.each(lambda m: m.n)) == [0, 1, 2]
    assert pool.map(lambda m, x: x, [], cost=float) == []
    pool.close()
    assert not pool.loaded
