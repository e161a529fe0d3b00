#!/usr/bin/env bash
# Build the one-folder app: dist/vlagent/vlagent (run it as dist/vlagent/vlagent [COMMAND]).
#   packaging/build-frozen.sh            full app (local model: torch + transformers included)
#   packaging/build-frozen.sh lite       no torch/transformers: OCR, search, GUI, remote model backend
# Needs PyInstaller in the environment (pinned in packaging/constraints.txt, in the dev extra).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
variant=${1:-full}
dist=${DIST:-dist}
work=${WORKDIR:-build/pyinstaller-$variant}
export VLAGENT_FROZEN_VARIANT=$variant
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$dist" --workpath "$work" packaging/vlagent.spec
echo "built $dist/vlagent ($variant) in $(( $(date +%s) - start )) s: $(du -sh "$dist/vlagent" | cut -f1)"
"$dist/vlagent/vlagent" --version
