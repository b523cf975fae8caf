"""lstmops: a reproducible, tracked pipeline for LSTM models (DVC, Great Expectations, Keras, MLflow)."""

__version__ = "0.1.0"
