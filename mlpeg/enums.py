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


@unique
class Dispersion(StrEnum):
    """The dispersion correction a run added to its model (``runs.dispersion``).

    A benchmark declares ``dispersion: d3`` or ``none`` in its benchmark.yml; a model
    trained without dispersion then runs with ``d3bj`` there, a model trained with
    dispersion always with ``none`` (never D3 twice).
    """

    NONE = "none"
    D3BJ = "d3bj"


@unique
class Band(StrEnum):
    """How much of its benchmark a run computed (``runs.band``).

    ``full``: the benchmark as defined; ``quick``: its fixed, documented quick band (the
    ``quick:`` entry of benchmark.yml, run by default); ``subset``: the first N systems or
    reactions (``--subset N``).
    """

    FULL = "full"
    QUICK = "quick"
    SUBSET = "subset"
