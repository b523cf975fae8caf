#!/usr/bin/env bash
# Training throughput (pipeline vs plain Keras) on a machine with an NVIDIA GPU, in a few minutes.
# Works with TensorFlow, or without it under Keras 3's JAX backend (or KERAS_BACKEND=torch).
# A machine without Keras or pydantic and without a package registry (the lent GPU machine) gets
# them from the wheels `make gpu-wheels` put in build/gpu-wheels, carried with the tree: installed
# into build/gpu-site, not into the machine's Python.
# Usage, from the project root: bash benchmarks/gpu.sh [--quick]   (prints the table; writes reports/bench.json)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
WHEELS="${GPU_WHEELS:-build/gpu-wheels}"
SITE=build/gpu-site
if ! "$PYTHON" -c "import keras, pydantic" 2>/dev/null; then
  if ! ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    echo "gpu.sh: this Python lacks keras or pydantic and $WHEELS has no wheels: run \`make gpu-wheels\` on a machine with the package registry, and carry $WHEELS" >&2
    exit 1
  fi
  rm -rf "$SITE"
  "$PYTHON" -m pip install -q --no-index --no-deps --target "$SITE" "$WHEELS"/*.whl
  export PYTHONPATH="$PWD/$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! "$PYTHON" -c "import tensorflow" 2>/dev/null; then
  export KERAS_BACKEND="${KERAS_BACKEND:-jax}"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" benchmarks/bench.py --throughput-only "$@"
