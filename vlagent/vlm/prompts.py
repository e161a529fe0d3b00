"""Built-in prompts (description, transcription) in English and Chinese.

The language follows ``general.language`` (``auto`` = the system locale); a non-empty
``vlm.prompt_describe`` / ``vlm.prompt_ocr`` replaces the built-in text.
"""

from __future__ import annotations

import locale
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vlagent.settings import Settings

DESCRIBE = {
    "en": ("Describe this image in detail: what it shows, the setting, the people and objects in it, "
           "and any text that is visible (quote it exactly)."),
    "zh": "请详细描述这张图片：画面内容、场景、其中的人物和物体，以及图中可见的所有文字（请原样引用）。",
}
TRANSCRIBE = {
    "en": ("Transcribe all the text in this image exactly as written, line by line in reading order. "
           "Do not translate or explain; output only the text."),
    "zh": "请按阅读顺序逐行转录图片中的全部文字，保持原文，不要翻译或解释，只输出文字内容。",
}


def system_language() -> str:
    """``zh`` when the system locale is Chinese, else ``en``."""
    candidates = [os.environ.get(k, "") for k in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")]
    try:
        candidates.append(locale.getlocale()[0] or "")
    except ValueError:
        pass
    for value in candidates:
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def language(settings: Settings) -> str:
    lang = settings.view.general.language
    return system_language() if lang == "auto" else lang


def describe_prompt(settings: Settings) -> str:
    return settings.view.vlm.prompt_describe.strip() or DESCRIBE[language(settings)]


def transcribe_prompt(settings: Settings) -> str:
    return settings.view.vlm.prompt_ocr.strip() or TRANSCRIBE[language(settings)]
