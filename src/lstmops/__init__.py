"""lstmops: a reproducible, tracked pipeline for LSTM models (DVC, Great Expectations, Keras, MLflow)."""

import os

__version__ = "0.1.0"

# TensorFlow turns its oneDNN kernels on only on CPUs with AVX-512 (or newer), and oneDNN then picks
# its code by the CPU at run time, so one commit trained different models on an AVX-512 EPYC and on
# an AVX2-only one. With them off, every x86-64 CPU runs TensorFlow's own compiled kernels: one result
# per commit. Set here, before any lstmops module imports TensorFlow, so every stage, test and served
# model gets it; TF_ENABLE_ONEDNN_OPTS=1 in the environment trades that for oneDNN's speed.
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
os.environ.setdefault(ONEDNN_ENV, "0")
