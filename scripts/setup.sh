#!/usr/bin/env bash
# Create .venv (if absent) and install graphclust into it, editable.
#   bash scripts/setup.sh          # the package
#   bash scripts/setup.sh test     # the package + test extras
# torch is installed first, pinned to the CPU build: an unpinned torch on a machine without
# one would pull a multi-GB CUDA build. Set GRAPHCLUST_TORCH to choose another version.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
py=.venv/bin/python
if ! "$py" -c "import torch" 2>/dev/null; then
    "$py" -m pip install -q "torch==${GRAPHCLUST_TORCH:-2.13.0}"
fi
if [ -n "$extras" ]; then
    "$py" -m pip install -q -e ".[$extras]"
else
    "$py" -m pip install -q -e .
fi
