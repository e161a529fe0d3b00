"""A forgotten file stays out: finding files (watch, backfill, ``index DIR``) skips it while
it holds what was forgotten; naming it, forcing, or new content takes it back."""

from __future__ import annotations

import os

import pytest

from tests.watch.util import write_png
from vlagent.ingest.pipeline import FORGOTTEN, NEW, SKIPPED, Ingestor


@pytest.fixture
def ingestor(index, settings, home):
    return Ingestor(index, settings, home)


def scan(ingestor, *paths, **kw):
    return {os.path.basename(o.path): o for o in ingestor.ingest_paths([str(p) for p in paths], threads=1,
                                                                        skip_forgotten=True, **kw)}


def test_a_forgotten_file_is_skipped_until_named_forced_or_changed(ingestor, index, tmp_path):
    a, b = write_png(tmp_path / "a.png", 1), write_png(tmp_path / "b.png", 2)
    first = scan(ingestor, a, b)
    a_id = first["a.png"].image_id
    assert index.forget(a_id, keep_out=True)
    assert index.forgotten_path(str(a)) is not None

    again = scan(ingestor, a, b)
    assert (again["a.png"].status, again["a.png"].reason) == (SKIPPED, FORGOTTEN)
    assert again["b.png"].status != SKIPPED
    assert index.location(str(a)) is None and index.image_by_sha(index.forgotten_path(str(a)).sha256) is None

    # Touched, same content: still forgotten (read once, then known by its new mtime again).
    os.utime(a, (1_700_000_000, 1_700_000_000))
    assert scan(ingestor, a)["a.png"].status == SKIPPED
    assert index.forgotten_path(str(a)).mtime == os.stat(a).st_mtime
    assert index.image_by_sha(index.forgotten_path(str(a)).sha256) is None

    # Named by the user: indexed again, under a new id, and no longer forgotten.
    back = scan(ingestor, a, named={str(a)})["a.png"]
    assert back.status == NEW and back.image_id != a_id
    assert index.forgotten_path(str(a)) is None


def test_force_and_new_content_bring_a_forgotten_file_back(ingestor, index, tmp_path):
    a, b = write_png(tmp_path / "a.png", 1), write_png(tmp_path / "b.png", 2)
    ids = {name: o.image_id for name, o in scan(ingestor, a, b).items()}
    index.forget(ids["a.png"], keep_out=True)
    index.forget(ids["b.png"], keep_out=True)

    assert scan(ingestor, a, force=True)["a.png"].status == NEW
    write_png(b, 3)  # the same name, another picture
    assert scan(ingestor, b)["b.png"].status == NEW
    assert index.forgotten_path(str(a)) is None and index.forgotten_path(str(b)) is None


def test_a_plain_forget_keeps_nothing_out(ingestor, index, tmp_path):
    """Retention and a discarded capture forget without keeping the path out."""
    a = write_png(tmp_path / "a.png", 1)
    index.forget(scan(ingestor, a)["a.png"].image_id)
    assert index.forgotten_path(str(a)) is None
    assert scan(ingestor, a)["a.png"].status == NEW


def test_a_forgotten_file_renamed_stays_forgotten(ingestor, index, tmp_path):
    a = write_png(tmp_path / "a.png", 1)
    index.forget(scan(ingestor, a)["a.png"].image_id, keep_out=True)
    os.rename(a, tmp_path / "renamed.png")
    assert index.move_location(str(a), str(tmp_path / "renamed.png")) is None  # what the watcher does
    assert scan(ingestor, tmp_path / "renamed.png")["renamed.png"].status == SKIPPED
