"""Vocabularies shared by Python, the YAML schemas and the SQL CHECK constraints."""

from enum import StrEnum, unique


@unique
class State(StrEnum):
    """State of one prediction (one structure for one model).

    ``not_run`` and ``filtered`` never appear in stored predictions: they are derived in
    the views (no row at all; excluded by the user's element filter).
    """

    OK = "ok"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


@unique
class PartKind(StrEnum):
    """What a landing Parquet part holds."""

    PREDICTIONS = "predictions"
    REFERENCES = "references"
    REACTIONS = "reactions"


@unique
class CostClass(StrEnum):
    """How long a benchmark takes per model on one CPU, roughly."""

    QUICK = "quick"
    SLOW = "slow"
    VERY_SLOW = "very_slow"


#: Units stored in the warehouse. A part that declares others is rejected.
WAREHOUSE_UNITS: dict[str, str] = {
    "energy": "eV",
    "forces": "eV/Å",
    "stress": "eV/Å^3",
    "positions": "Å",
}
