"""``mlpeg bundle``: pack one model's results in a warehouse into one checked file."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlpeg import __version__
from mlpeg.bundle import FORMAT, MANIFEST, MODEL_FILE, PARTS_FOLDER, PROVENANCE_FILE, VERSION
from mlpeg.errors import MlpegError
from mlpeg.landing import landed_part, utc_now
from mlpeg.paths import landing_dir

#: Columns of ``models`` that make a registry entry when the registry no longer has one.
_ENTRY_COLUMNS = (
    "family",
    "checkpoint",
    "checkpoint_sha256",
    "dispersion",
    "dtype",
    "level_of_theory",
    "training_sets",
    "elements",
    "licence",
    "paper",
    "n_params",
    "notes",
    "kind",
)


@dataclass(frozen=True)
class PackedPart:
    """A landing part that goes in a bundle."""

    path: Path
    sha256: str
    kind: str
    benchmark: str
    run_id: str | None = None


def _registry_entry(con: Any, model: str) -> dict[str, Any]:
    """Return the model's registry entry as written, else rebuilt from its ``models`` row."""
    from mlpeg.models import registry

    for source in registry.registry_sources():
        if model in source.document and model != "environments":
            entry = dict(source.document[model])
            spec = registry.all_models()[model]
            if spec.checkpoint_kind == "file":  # absolute, as resolved; with its sha256
                entry["checkpoint"] = spec.checkpoint
            entry.pop("environment", None)  # names an environment of this machine
            return entry
    row = con.execute(
        f"select {', '.join(_ENTRY_COLUMNS)} from models where model_key = ?", [model]
    ).fetchall()[0]
    values = dict(zip(_ENTRY_COLUMNS, row, strict=True))
    entry = {"family": values.pop("family"), "checkpoint": values.pop("checkpoint")}
    if entry["family"] == "python":  # its checkpoint column holds the factory
        entry["factory"] = entry.pop("checkpoint")
    entry["trained_on_dispersion"] = values.pop("dispersion") == "trained"
    for key, value in values.items():
        if value not in (None, [], ""):
            entry[key] = value
    if entry["family"] not in _known_families():
        raise MlpegError(
            f"Model '{model}' is of family {entry['family']}, which no registry entry can "
            "name; register it (mlpeg models add) to bundle its results."
        )
    return entry


def _known_families() -> set[str]:
    from mlpeg.catalog import _schema

    return set(_schema("models")["definitions"]["Model"]["properties"]["family"]["enum"])


def _located(landing: Path, name: str, sha256: str) -> Path:
    """Find an ingested part in the landing folder, with the bytes it was ingested as."""
    path = landed_part(landing, name, sha256)
    if path is None:
        raise MlpegError(
            f"Part {name} is not in {landing} as it was ingested (moved, or changed since); "
            "a bundle carries the parts byte for byte."
        )
    return path


def _parts(con: Any, model: str, benchmarks: list[str], landing: Path) -> list[PackedPart]:
    rows = con.execute(
        "select p.part_sha256, p.file_name, r.run_id, r.benchmark_key from parts p "
        "join runs r using (run_id) where p.kind = 'predictions' and r.model_key = ? "
        "and list_contains(?, r.benchmark_key) order by r.benchmark_key, p.file_name",
        [model, benchmarks],
    ).fetchall()
    parts = [
        PackedPart(_located(landing, name, sha), sha, "predictions", bench, run_id)
        for sha, name, run_id, bench in rows
    ]
    # what every run of the benchmark is scored against: the latest such part ingested
    shared = con.execute(
        "select part_sha256, file_name, kind from parts where kind in ('references', "
        "'reactions') order by ingested_at desc, file_name"
    ).fetchall()
    for bench in benchmarks:
        for kind in ("references", "reactions"):
            name = f"{bench}__{kind}.parquet"
            found = [sha for sha, file_name, k in shared if file_name == name and k == kind]
            if found:
                parts.append(PackedPart(_located(landing, name, found[0]), found[0], kind, bench))
    return parts


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utc_now().timestamp())
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


def write_bundle(
    warehouse: Path, model: str, output: Path, *, benchmarks: list[str] | None = None
) -> dict[str, Any]:
    """Pack a model's landing parts, registry entry and provenance into ``output``.

    Parameters
    ----------
    warehouse
        The warehouse whose results are packed (read through its snapshot).
    model
        The model's name.
    output
        The bundle file to write (written under a temporary name, then renamed).
    benchmarks
        Only these benchmarks; default every benchmark the model has runs of.

    Returns
    -------
    dict
        The manifest written.

    Raises
    ------
    MlpegError
        When the model has no runs (on those benchmarks), or a part is not in the landing
        folder as it was ingested.
    """
    from mlpeg.warehouse.connect import reader

    with reader(warehouse) as con:
        ran = [
            row[0]
            for row in con.execute(
                "select distinct benchmark_key from runs where model_key = ? order by 1", [model]
            ).fetchall()
        ]
        chosen = benchmarks or ran
        missing = sorted(set(chosen) - set(ran))
        if not ran or missing:
            where = f" on {', '.join(missing)}" if missing else ""
            raise MlpegError(f"The warehouse {warehouse} holds no runs of '{model}'{where}.")
        parts = _parts(con, model, chosen, landing_dir(warehouse))
        cursor = con.execute(
            "select * from runs where model_key = ? and list_contains(?, benchmark_key) "
            "order by run_id",
            [model, chosen],
        )
        names = [column[0] for column in cursor.description]
        runs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        entry = _registry_entry(con, model)
    provenance = json.dumps({"runs": runs}, indent=1, default=str).encode()
    files: dict[str, bytes] = {
        MODEL_FILE: yaml.safe_dump({model: entry}, sort_keys=False).encode(),
        PROVENANCE_FILE: provenance,
    }
    listed = []
    for name, content in files.items():
        listed.append(
            {"name": name, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
        )
    for part in parts:
        item = {
            "name": f"{PARTS_FOLDER}/{part.path.name}",
            "sha256": part.sha256,
            "size": part.path.stat().st_size,
            "kind": part.kind,
            "benchmark": part.benchmark,
        }
        if part.run_id:
            item["run_id"] = part.run_id
        listed.append(item)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "model": model,
        "benchmarks": chosen,
        "created_at": utc_now().isoformat(),
        "created_by": {
            "mlpeg": __version__,
            "host": socket.gethostname(),
            "warehouse": str(warehouse.resolve()),
        },
        "files": listed,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
        _add(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
        for name, content in files.items():
            _add(archive, name, content)
        for part in parts:
            archive.add(part.path, arcname=f"{PARTS_FOLDER}/{part.path.name}", recursive=False)
    partial.replace(output)
    return manifest
