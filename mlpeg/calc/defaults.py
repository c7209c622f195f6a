"""Defaults of the calc engine that the command line needs without importing the engine."""

#: Largest number of structures in one batched forward pass.
DEFAULT_BATCH_SIZE = 64
