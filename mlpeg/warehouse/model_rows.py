"""The ``models`` table's row for a registered model, built in one place.

Both the schema install (every model of the registry) and a bundle's ingest (the model it
brings) write these rows; the columns follow ``sql/migrations`` (001 and 007).
"""

from __future__ import annotations

import json

from mlpeg.models import registry
from mlpeg.models.registry import ModelSpec


def model_row(spec: ModelSpec, *, notes: str | None = None) -> dict[str, object]:
    """Return the ``models`` row of a model, column by column in table order.

    Parameters
    ----------
    spec
        The model's registry entry.
    notes
        Notes to store instead of the entry's own.

    Returns
    -------
    dict
        Column name to value. A model trained on dispersion-inclusive data is ``trained``
        (never given D3); any other is ``none`` (its runs record the D3 they add).
    """
    return {
        "model_key": spec.name,
        "base_model": spec.name,
        "family": spec.family,
        "checkpoint": spec.checkpoint,
        "checkpoint_sha256": spec.checkpoint_sha256,
        "dispersion": "trained" if spec.trained_on_dispersion else "none",
        "dtype": spec.dtype,
        "level_of_theory": spec.level_of_theory,
        "training_sets": list(spec.training_sets),
        "elements": registry.element_symbols(spec),
        "licence": spec.licence,
        "paper": spec.paper,
        "n_params": spec.n_params,
        "notes": spec.notes if notes is None else notes,
        "is_test_only": spec.test_only,
        "kind": spec.kind,
        "accepts": json.dumps(spec.accepts.as_dict()),
    }
