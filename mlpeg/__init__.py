"""mlpeg: benchmark machine-learned interatomic potentials into a DuckDB warehouse."""

__version__ = "0.1.0"
