"""lstmops: a reproducible, tracked pipeline for LSTM models (DVC, Great Expectations, Keras, MLflow)."""

import os
import warnings

__version__ = "0.1.0"

# One result per commit on every x86-64 CPU with AVX2. TensorFlow turns its oneDNN kernels on only
# where the CPU has AVX-512, and its matrix products go through oneDNN's sgemm everywhere, which
# picks its code by the CPU at run time: one commit trained different models on an AVX-512 EPYC and
# on an AVX2-only one. So by default oneDNN's own kernels stay off and its sgemm is held to AVX2.
# Set here, before any lstmops module imports TensorFlow, so every stage, test and served model gets
# them. LSTMOPS_CPU_KERNELS=native keeps TensorFlow's defaults instead: faster on an AVX-512 CPU,
# but its results are that CPU's, not dvc.lock's (docs/results.md has the cost).
CPU_KERNELS_ENV = "LSTMOPS_CPU_KERNELS"
CPU_PINS = {"TF_ENABLE_ONEDNN_OPTS": "0", "ONEDNN_MAX_CPU_ISA": "AVX2"}
if os.environ.get(CPU_KERNELS_ENV, "portable") != "native":
    for name, value in CPU_PINS.items():
        os.environ.setdefault(name, value)

# Great Expectations imports PySpark where it is installed (the Spark UDF test installs it), and
# PySpark warns on import that it does not fully support pandas 3 yet: its pandas API, which
# lstmops does not use; what it does use, Arrow batches into a pyfunc, the Spark test checks.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)
