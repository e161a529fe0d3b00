"""Evaluation sets: a folder of images and a JSON-lines file naming what each one should give.

OCR truth, one line per image:   {"file": "a.png", "text": "what the image says"}
Caption references:              {"file": "a.jpg", "captions": ["a dog on snow", "一只小狗在雪地上"]}
(``"caption": "..."`` is accepted too; lines naming the same file add up their captions.)
``file`` is relative to the image folder. Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class EvalDataError(ValueError):
    """A truth/refs file that can't be read; the message names the file and line."""


@dataclass
class Item:
    file: str
    text: str = ""  # OCR truth
    captions: list[str] = field(default_factory=list)  # caption references


def _lines(path: Path):
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise EvalDataError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise EvalDataError(f"{path} is not UTF-8 text") from None
    for n, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            reason = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
            raise EvalDataError(f"{path.name} line {n}: not JSON ({reason})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("file"), str) or not obj["file"].strip():
            raise EvalDataError(f"{path.name} line {n}: expected an object with a \"file\" name")
        yield n, obj


def load_truth(path: Path) -> list[Item]:
    items: dict[str, Item] = {}
    for n, obj in _lines(Path(path)):
        text = obj.get("text")
        if not isinstance(text, str):
            raise EvalDataError(f"{Path(path).name} line {n}: expected {{\"file\": ..., \"text\": \"...\"}}")
        if obj["file"] in items:
            raise EvalDataError(f"{Path(path).name} line {n}: {obj['file']} is listed twice")
        items[obj["file"]] = Item(obj["file"], text=text)
    if not items:
        raise EvalDataError(f"{path} lists no images")
    return list(items.values())


def load_refs(path: Path) -> list[Item]:
    items: dict[str, Item] = {}
    for n, obj in _lines(Path(path)):
        caps = obj.get("captions", obj.get("caption"))
        caps = [caps] if isinstance(caps, str) else caps
        if not isinstance(caps, list) or not caps or not all(isinstance(c, str) and c.strip() for c in caps):
            raise EvalDataError(f"{Path(path).name} line {n}: expected {{\"file\": ..., \"captions\": "
                                f"[\"...\", ...]}} with at least one non-empty caption")
        items.setdefault(obj["file"], Item(obj["file"])).captions.extend(caps)
    if not items:
        raise EvalDataError(f"{path} lists no images")
    return list(items.values())
