"""Hand-written half of the typed settings views: the base class of the generated section views
(:mod:`vlagent.settings.views`) and the import-time check that they match the declaration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from vlagent.settings.declaration import SETTINGS

if TYPE_CHECKING:
    from vlagent.settings.store import Settings

REGENERATE = "python -m vlagent.settings.viewgen --write"

# What a generated field was generated from: key -> (type, choices).
Signature = tuple[str, tuple[str, ...]]


class SectionView:
    """Live, typed access to one section of a :class:`~vlagent.settings.store.Settings`.

    Each property reads ``Settings.get`` on every access, so overrides, ``set``, ``reset`` and
    ``reload`` show at once. A name that is not a declared setting raises ``AttributeError``.
    """

    __slots__ = ("_settings",)
    section: ClassVar[str] = ""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def as_dict(self) -> dict[str, Any]:
        """The section's effective values by name (secrets not redacted)."""
        return self._settings.section(self.section)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.as_dict()!r}>"


def view_fields(sections: Iterable[type[SectionView]]) -> dict[str, type[SectionView]]:
    """Every property of the section view classes, as its dotted key."""
    out: dict[str, type[SectionView]] = {}
    for cls in sections:
        for name, attr in vars(cls).items():
            if isinstance(attr, property):
                out[f"{cls.section}.{name}"] = cls
    return out


def check_views(sections: Iterable[type[SectionView]], fields: Mapping[str, Signature]) -> None:
    """Raise ``ImportError`` unless the views are exactly the declared settings: every view field
    a declared key of the type (and choices) it was generated from, and every declared key a field."""
    declared: dict[str, Signature] = {s.key: (s.type, s.choices) for s in SETTINGS}
    props = view_fields(sections)
    problems: list[str] = []
    for key in props:
        if key not in fields:
            problems.append(f"{key}: a view field with no generated signature")
    for key, sig in fields.items():
        if key not in props:
            problems.append(f"{key}: a generated signature with no view field")
        if key not in declared:
            problems.append(f"{key}: a view field that is not a declared setting")
        elif declared[key] != sig:
            problems.append(f"{key}: declared as {declared[key]}, the view was generated for {sig}")
    for key in declared:
        if key not in fields:
            problems.append(f"{key}: a declared setting with no view field")
    if problems:
        raise ImportError(
            "vlagent/settings/views.py does not match vlagent/settings/declaration.py "
            f"(run `{REGENERATE}`):\n  " + "\n  ".join(problems))
