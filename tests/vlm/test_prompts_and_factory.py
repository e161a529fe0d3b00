"""Prompt choice by language and override; engine creation by backend."""

from __future__ import annotations

import pytest

from vlagent.vlm.factory import create_engine
from vlagent.vlm.openai_backend import OpenAIEngine
from vlagent.vlm.prompts import DESCRIBE, TRANSCRIBE, describe_prompt, system_language, transcribe_prompt


@pytest.mark.parametrize("env, lang", [({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "en_GB.UTF-8"}, "en"),
                                       ({"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
                                       ({"LANG": "C"}, "en")])
def test_auto_language_follows_the_locale(monkeypatch, settings, env, lang):
    for key in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr("locale.getlocale", lambda *a: (None, None))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert system_language() == lang
    assert describe_prompt(settings) == DESCRIBE[lang] and transcribe_prompt(settings) == TRANSCRIBE[lang]


def test_explicit_language_and_overrides(settings):
    settings.override("general.language", "zh")
    assert "描述" in describe_prompt(settings) and "转录" in transcribe_prompt(settings)
    settings.override("general.language", "en")
    assert describe_prompt(settings).startswith("Describe") and transcribe_prompt(settings).startswith("Transcribe")
    settings.override("vlm.prompt_describe", "  用一句话概括这张图。 ")
    settings.override("vlm.prompt_ocr", "List every number.")
    assert describe_prompt(settings) == "用一句话概括这张图。" and transcribe_prompt(settings) == "List every number."


def test_factory_builds_the_configured_backend(settings, home):
    engine = create_engine(settings, home)
    assert engine.name == "transformers" and engine.model_id == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert not engine.loaded  # nothing is loaded until used
    settings.override("vlm.backend", "openai")
    other = create_engine(settings, home)
    assert isinstance(other, OpenAIEngine) and other.name == "openai" and not other.loaded
