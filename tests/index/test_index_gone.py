"""The data home deleted (or its disk unmounted) under a running process: the open index
says it is gone, and the process never creates a fresh index in its place."""

from __future__ import annotations

import os
import shutil

import pytest

from vlagent.home import Home
from vlagent.index.db import IndexGone
from vlagent.index.store import Index


def _add(index: Index, n: int) -> int:
    image_id, created = index.add_image(sha256=f"{n:064x}", width=1, height=1, format="PNG", bytes=1, mtime=0.0,
                                        source="import")
    assert created
    return image_id


def test_a_deleted_home_is_reported_and_not_created_again(tmp_path):
    home = Home(tmp_path / "home").ensure()
    index = Index.open(home)
    try:
        _add(index, 1)
        index.check_still_there()  # there: nothing raised
        shutil.rmtree(home.root)
        with pytest.raises(IndexGone, match="the file no longer exists"):
            index.check_still_there()
        with pytest.raises(IndexGone):
            Index.open(home)  # a writer would have made the home and an empty index again
        with pytest.raises(IndexGone):
            Index.open(home, readonly=True)
        assert not home.root.exists()
    finally:
        index.close()
    assert not home.root.exists()


def test_another_file_in_its_place_is_not_taken_for_it(tmp_path):
    home = Home(tmp_path / "home").ensure()
    index = Index.open(home)
    try:
        _add(index, 1)
        os.rename(home.db_path, tmp_path / "moved.db")
        Index.open(Home(tmp_path / "elsewhere")).close()  # a real index file...
        os.rename(tmp_path / "elsewhere" / "index.db", home.db_path)  # ...put where ours was
        with pytest.raises(IndexGone, match="another file took its place"):
            index.check_still_there()
        with pytest.raises(IndexGone, match="another file took its place"):
            Index.open(home)
    finally:
        index.close()


def test_a_fresh_home_still_gets_its_index(tmp_path):
    index = Index.open(Home(tmp_path / "new-home"))
    try:
        index.check_still_there()
        assert _add(index, 1) == 1
    finally:
        index.close()
    assert (tmp_path / "new-home" / "index.db").is_file()
