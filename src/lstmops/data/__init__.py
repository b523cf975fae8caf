"""Per-dataset reading of source files into raw tables."""
