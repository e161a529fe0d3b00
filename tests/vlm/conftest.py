"""Engines on tiny random checkpoints (real transformers generation, no mocks)."""

from __future__ import annotations

import pytest

from vlagent.samples import photo_like, text_image

TEST_DEFAULTS = {
    "vlm.dtype": "float32",  # batched rows match single runs exactly only in float32
    "vlm.cpu_quantize": False,
    "vlm.max_new_tokens": 12,
    "vlm.max_pixels": 128 * 28 * 28,
    "vlm.idle_unload_s": 0.0,
    "vlm.threads": 0,
}


@pytest.fixture
def make_engine(home):
    """``make_engine(model_dir, **{"vlm.key": value})`` → a TransformersEngine with its own settings."""
    from vlagent.settings import Settings
    from vlagent.vlm.transformers_backend import TransformersEngine

    engines = []

    def _make(model_dir, **overrides):
        settings = Settings(None)
        for key, value in {**TEST_DEFAULTS, "vlm.model": str(model_dir), **overrides}.items():
            settings.override(key, value)
        engine = TransformersEngine(settings, home)
        engines.append(engine)
        return engine

    yield _make
    for engine in engines:
        engine.unload()


@pytest.fixture(scope="session")
def images():
    """Real images of different sizes and aspect ratios (text in English and Chinese, a photo)."""
    return [
        text_image(["Invoice 2024-0193", "Total due: 42.50 EUR"], font_size=28),
        photo_like(640, 480, seed=3),
        text_image(["图片中有一只小狗站在雪地上"], font_size=30),
    ]
