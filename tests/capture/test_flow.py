"""Saving and indexing a capture: a PNG under captures/, source screenshot, queued ahead of
folder work, OCR text searchable; paused means nothing; "don't keep" removes only what the
capture added."""

import pytest

from vlagent.capture import CapturePaused
from vlagent.capture.flow import check_not_paused, discard_capture, pending_jobs, run_capture_jobs, store_capture
from vlagent.index.queue import PRIO_FRESH, PRIO_SCREENSHOT
from vlagent.index.search import Filters, search
from vlagent.ingest.pipeline import Ingestor
from vlagent.samples import text_image


@pytest.fixture(scope="module")
def capture_image():
    return text_image(["Error: connection refused on port 5432", "数据库连接失败请检查网络"], font_size=30)


def test_a_capture_is_saved_as_png_and_queued_at_screenshot_priority(capture_image, index, settings, home):
    stored = store_capture(capture_image, index=index, settings=settings, home=home)
    assert stored.created and stored.path.parent == home.captures and stored.path.suffix == ".png"
    assert stored.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = index.image(stored.image_id)
    assert img["source"] == "screenshot" and (img["width"], img["height"]) == capture_image.size
    jobs = index.query("SELECT kind, priority FROM jobs WHERE image_id = ?", (stored.image_id,))
    assert jobs == [{"kind": "ocr", "priority": PRIO_SCREENSHOT}]


def test_its_ocr_runs_before_folder_backlog_and_its_text_is_searchable(capture_image, index, settings, home,
                                                                        text_png):
    backlog = Ingestor(index, settings, home).ingest_path(str(text_png(["older folder image"])),
                                                          source="folder", priority=PRIO_FRESH)
    stored = store_capture(capture_image, index=index, settings=settings, home=home)
    ran = run_capture_jobs(index, settings, home, stored.image_id)
    assert ran == 1 and pending_jobs(index, stored.image_id) == 0
    assert pending_jobs(index, backlog.image_id) == 1  # the folder image waits for the worker
    for query in ("数据库", "5432", "refused"):
        page = search(index.conn, query, filters=Filters(source="screenshot"))
        assert [h.image_id for h in page.hits] == [stored.image_id], query


def test_not_keeping_removes_the_file_and_the_index_entry(capture_image, index, settings, home):
    stored = store_capture(capture_image, index=index, settings=settings, home=home)
    discard_capture(index, stored)
    assert not stored.path.exists()
    assert index.image(stored.image_id) is None
    assert index.query("SELECT count(*) AS n FROM jobs")[0]["n"] == 0


def test_not_keeping_a_repeat_capture_leaves_the_kept_original(capture_image, index, settings, home):
    first = store_capture(capture_image, index=index, settings=settings, home=home)
    again = store_capture(capture_image, index=index, settings=settings, home=home)
    assert not again.created and again.image_id == first.image_id
    discard_capture(index, again)
    assert first.path.exists() and index.image(first.image_id) is not None


def test_paused_refuses_to_capture(settings):
    check_not_paused(settings)
    settings.set("privacy.paused", True)
    with pytest.raises(CapturePaused, match="vlagent config privacy.paused false"):
        check_not_paused(settings)
