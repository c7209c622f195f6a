"""Model registry and one module per model family."""
