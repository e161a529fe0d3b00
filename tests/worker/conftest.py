from __future__ import annotations

import pytest

from tests.watch.util import Db


@pytest.fixture(scope="session")
def ocr_engine():
    """One real RapidOCR engine for the session (initialising it costs ~1 s)."""
    from vlagent.ocr.rapid import RapidOcrEngine

    return RapidOcrEngine()


@pytest.fixture
def db(home):
    return Db(home.db_path)


@pytest.fixture
def ocr_runner(settings, ocr_engine):
    """A runner factory for workers that run real OCR jobs with the shared engine."""
    from vlagent.jobs.runner import JobRunner
    from vlagent.jobs.steps import OcrStep

    def factory(index, engine, worker_id):
        runner = JobRunner(index, settings, worker_id=worker_id)
        runner.register(OcrStep(lambda: ocr_engine))
        return runner

    return factory


@pytest.fixture
def add_text_images(tmp_path, home, settings, cjk_font_path):
    """Index ``n`` distinct text images (OCR jobs queued at ``priority``); returns their ids."""
    from vlagent.index.store import Index
    from vlagent.ingest.pipeline import Ingestor
    from vlagent.samples import text_image

    counter = [0]

    def _add(n: int, priority: int, prefix: str = "item") -> list[int]:
        index = Index.open(home)
        try:
            ing = Ingestor(index, settings, home)
            ids = []
            for _ in range(n):
                counter[0] += 1
                p = tmp_path / "imgs" / f"{prefix}{counter[0]}.png"
                p.parent.mkdir(exist_ok=True)
                # small and nearly square: RapidOCR scales its input up to a 736 px short side
                text_image([prefix, f"n {counter[0]}"], font_size=22, size=(150, 96), margin=8).save(p)
                out = ing.ingest_path(str(p), priority=priority)
                assert out.status == "new", out
                ids.append(out.image_id)
            return ids
        finally:
            index.close()

    return _add
