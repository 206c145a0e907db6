#!/usr/bin/env bash
# Create .venv (if absent) and install graphclust into it, editable.
#   bash scripts/setup.sh          # the package
#   bash scripts/setup.sh test     # the package + test extras
# torch is installed first, pinned (2.13.0): an unpinned torch on a machine without one would pull
# the newest, multi-GB CUDA build. Where pip has a local CPU wheel of the pin (our CI machines) it
# takes that; elsewhere PyPI's Linux wheel is the CUDA build, so set GRAPHCLUST_TORCH_INDEX to
# PyTorch's CPU index (https://download.pytorch.org/whl/cpu) to get the CPU build. Set
# GRAPHCLUST_TORCH to choose another version; a torch already in .venv is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
py=.venv/bin/python
if ! "$py" -c "import torch" 2>/dev/null; then
    "$py" -m pip install -q "torch==${GRAPHCLUST_TORCH:-2.13.0}" \
        ${GRAPHCLUST_TORCH_INDEX:+--index-url "$GRAPHCLUST_TORCH_INDEX"}
fi
if [ -n "$extras" ]; then
    "$py" -m pip install -q -e ".[$extras]"
else
    "$py" -m pip install -q -e .
fi
