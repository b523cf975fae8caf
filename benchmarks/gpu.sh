#!/usr/bin/env bash
# Training throughput (pipeline vs plain Keras) on a machine with an NVIDIA GPU, in a few minutes.
# Works with TensorFlow, or without it under Keras 3's JAX backend (or KERAS_BACKEND=torch).
# Usage, from the project root: bash benchmarks/gpu.sh   (prints the table; writes reports/bench.json)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c "import tensorflow" 2>/dev/null; then
  export KERAS_BACKEND="${KERAS_BACKEND:-jax}"
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHONPATH=src python3 benchmarks/bench.py --throughput-only "$@"
