"""Landing Parquet parts: the only thing calc runners and importers write.

A part holds the predictions of one run of one model on one benchmark (or a benchmark's
reference values). It is written under a temporary name and renamed when complete, so a
reader never sees half a part. Its Parquet key-value metadata (key ``mlpeg``) carries the
kind, format version, declared units and the run's provenance.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mlpeg.enums import WAREHOUSE_UNITS, PartKind
from mlpeg.structures import STRUCTURE_TYPE

FORMAT_VERSION = 1
METADATA_KEY = b"mlpeg"

PREDICTIONS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("model_key", pa.string()),
        ("benchmark_key", pa.string()),
        ("system", pa.string()),
        ("role", pa.string()),
        ("task", pa.string()),
        ("settings_hash", pa.string()),
        ("structure", STRUCTURE_TYPE),
        ("frames", pa.list_(STRUCTURE_TYPE)),
        ("energy", pa.float64()),
        ("forces", pa.list_(pa.list_(pa.float64(), 3))),
        ("stress", pa.list_(pa.float64(), 6)),
        ("properties", pa.map_(pa.string(), pa.float64())),
        ("state", pa.string()),
        ("error", pa.string()),
        ("wall_time_s", pa.float64()),
        ("computed_at", pa.timestamp("us", tz="UTC")),
    ]
)

REFERENCES_SCHEMA = pa.schema(
    [
        ("benchmark_key", pa.string()),
        ("system", pa.string()),
        ("quantity", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("uncertainty", pa.float64()),
        ("level_of_theory", pa.string()),
        ("source", pa.string()),
    ]
)

#: Stoichiometry of reaction-energy benchmarks: a reaction's energy is the sum of
#: coefficient × energy over its species (a species is a predictions ``system``).
REACTIONS_SCHEMA = pa.schema(
    [
        ("benchmark_key", pa.string()),
        ("reaction", pa.string()),
        ("subset", pa.string()),
        ("species", pa.string()),
        ("coefficient", pa.float64()),
    ]
)

SCHEMAS: dict[PartKind, pa.Schema] = {
    PartKind.PREDICTIONS: PREDICTIONS_SCHEMA,
    PartKind.REFERENCES: REFERENCES_SCHEMA,
    PartKind.REACTIONS: REACTIONS_SCHEMA,
}


def new_run_id() -> str:
    """Return a sortable, unique run id: UTC time then 8 random hex digits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def run_metadata(
    *,
    run_id: str,
    model_key: str,
    benchmark_key: str,
    started_at: datetime,
    ended_at: datetime,
    device: str | None = None,
    dtype: str | None = None,
    versions: dict[str, str] | None = None,
    code_version: str | None = None,
    status: str = "completed",
    model: dict[str, Any] | None = None,
    dispersion: str | None = None,
    band: str | None = None,
) -> dict[str, Any]:
    """Return the provenance block stored in a predictions part.

    ``model`` is what :func:`mlpeg.models.registry.run_provenance` returns: family,
    checkpoint and its sha256, and the D3 settings. ``dispersion`` (``none`` or ``d3bj``)
    and ``band`` (``full``, ``quick`` or ``subset``) say what was run; parts written
    before they were recorded lack them (ingest derives the dispersion from the D3
    settings then).
    """
    return {
        "run_id": run_id,
        "model_key": model_key,
        "benchmark_key": benchmark_key,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat(),
        "host": socket.gethostname(),
        "device": device,
        "dtype": dtype,
        "versions": versions or {},
        "code_version": code_version,
        "status": status,
        "model": model or {},
        "dispersion": dispersion,
        "band": band,
    }


def write_part(
    table: pa.Table,
    *,
    kind: PartKind,
    folder: Path,
    name: str,
    run: dict[str, Any] | None = None,
) -> Path:
    """Write a landing part atomically and return its final path.

    Parameters
    ----------
    table
        Rows matching the kind's schema (cast to it here).
    kind
        Predictions or references.
    folder
        The landing folder.
    name
        File stem; ``.parquet`` is appended.
    run
        Provenance from :func:`run_metadata` (predictions parts).

    Returns
    -------
    Path
        The written part.
    """
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format_version": FORMAT_VERSION,
        "kind": str(kind),
        "units": WAREHOUSE_UNITS,
        "run": run,
    }
    table = table.cast(SCHEMAS[kind]).replace_schema_metadata(
        {METADATA_KEY: json.dumps(metadata).encode()}
    )
    final = folder / f"{name}.parquet"
    tmp = folder / f".{name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def read_metadata(schema: pa.Schema) -> dict[str, Any] | None:
    """Return the ``mlpeg`` metadata block of a part's schema, or None if absent."""
    raw = (schema.metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else None


#: Folder of the landing folder where ``mlpeg ingest BUNDLE`` keeps each bundle's parts
#: (``bundles/<bundle id>/``), apart from the parts this warehouse's own calcs write.
BUNDLES_FOLDER = "bundles"


def landed_part(landing: Path, file_name: str, sha256: str) -> Path | None:
    """Return the file holding an ingested part with the bytes it was ingested as, or None.

    Parameters
    ----------
    landing
        The warehouse's landing folder.
    file_name
        The part's name as recorded in ``parts``.
    sha256
        Its digest as recorded in ``parts``.

    Returns
    -------
    Path or None
        ``landing/<file_name>``, or for a part that came in a bundle
        ``landing/bundles/<id>/<file_name>``; None when neither holds those bytes.
    """
    from mlpeg.data import sha256_of

    candidates = [landing / file_name, *sorted((landing / BUNDLES_FOLDER).glob(f"*/{file_name}"))]
    for path in candidates:
        if path.is_file() and sha256_of(path) == sha256:
            return path
    return None
