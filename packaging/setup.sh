#!/usr/bin/env bash
# Set up vlagent on a fresh Debian/Ubuntu machine: system packages, a virtualenv in .venv,
# and the project with pinned dependencies (packaging/constraints.txt).
#
# torch: pinned to 2.14.1 + torchvision 0.29.1 (see README, "Why these versions").
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # Qt (PySide6) under X11/Xvfb, tray host, hotkeys, CJK fonts
  xvfb xauth xdotool trayer libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-randr0
  libxcb-render-util0 libxcb-image0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 libdbus-1-3 libfontconfig1
  fonts-noto-cjk fonts-wqy-microhei
  # desktop-file-validate checks the .desktop entries install-desktop writes
  desktop-file-utils
  # a private session bus for the screenshot-portal tests
  dbus-daemon
  # the web face's tests, benchmark and screenshots: headless Chromium driven by selenium
  chromium chromium-driver
)

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "== installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "note: not a Debian-like system; install Xvfb, xdotool and a CJK font yourself for the GUI tests"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PY --version)"
  $PY -m venv .venv
fi
echo "== installing vlagent and pinned dependencies into .venv"
log=$(mktemp)
if ! .venv/bin/python -m pip install -q -c packaging/constraints.txt -e '.[dev]' >"$log" 2>&1; then
  grep -v "is ignored: it is neither" "$log" >&2; rm -f "$log"; exit 1
fi
rm -f "$log"
.venv/bin/python -c "import vlagent, torch, torchvision, transformers, rapidocr; print('vlagent', vlagent.__version__, '| torch', torch.__version__, '| transformers', transformers.__version__)"
