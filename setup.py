"""Copies the repository's ``resources/`` (icons, translations, desktop entry) into the built
package as ``vlagent/_resources``, where :mod:`vlagent.resources` finds them through
importlib.resources. Everything else is configured in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"


class BuildWithResources(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads resources/ from the checkout
            return
        if not RESOURCES.is_dir():
            raise SystemExit(f"{RESOURCES} is missing: cannot build a package without its resources")
        target = Path(self.build_lib) / "vlagent" / "_resources"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(RESOURCES, target, ignore=shutil.ignore_patterns("*.ts~", ".*"))

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if not self.editable_mode:
            target = Path(self.build_lib) / "vlagent" / "_resources"
            outputs += [str(p) for p in target.rglob("*") if p.is_file()]
        return outputs


setup(cmdclass={"build_py": BuildWithResources})
