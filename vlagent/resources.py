"""Where bundled resources (icons, translations) are found at run time.

This is the only module that knows resource paths. In an installed package they are
package data under ``vlagent/_resources/``; in a source checkout they are the repository's
top-level ``resources/`` folder.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = "_resources"


@lru_cache(maxsize=1)
def resources_root() -> Path:
    from importlib import resources

    packaged = resources.files("vlagent") / PACKAGE_DIR
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "resources"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"vlagent's resources are missing (looked in {packaged} and {checkout})")


def resource_path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``resource_path("icons", "vlagent.svg")``."""
    return resources_root().joinpath(*parts)
