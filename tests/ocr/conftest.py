import pytest


@pytest.fixture(scope="session")
def engine(cjk_font_path):
    """The tuned RapidOCR engine with its default settings, models loaded once per session."""
    from vlagent.ocr.rapid import RapidOcrEngine

    eng = RapidOcrEngine()
    eng.warm_up()
    return eng
