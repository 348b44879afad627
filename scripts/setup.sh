#!/usr/bin/env bash
# Create .venv in the repository root and install reanimate into it.
#   bash scripts/setup.sh          # the tool
#   bash scripts/setup.sh --dev    # the tool and its test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "reanimate needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build on CPU-only machines.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
.venv/bin/python -m pip install --quiet -e ".${extra}"
echo "reanimate is installed in .venv: run .venv/bin/reanimate --help" >&2
