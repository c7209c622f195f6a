"""``mlpeg ingest BUNDLE``: verify every byte and the schema of a bundle, then load it.

Nothing is loaded until the whole bundle checks out: it must be a complete tar whose
manifest is valid and lists exactly the files it holds, each with its size and sha256; its
model entry must be one this warehouse can register (or the same model it already has);
every part must pass ingest's validation, hold that model's predictions or its benchmarks'
references, and references must agree with those already stored. Any failure is one
sentence and the warehouse is left as it was. Then the parts are copied into
``landing/bundles/<id>/`` and ingested like any part (so a second ingest changes nothing),
and the bundle is recorded in ``bundles`` with where it was read from.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import pyarrow as pa
import yaml

from mlpeg.bundle import FORMAT, LANDING_FOLDER, MANIFEST, MODEL_FILE, PARTS_FOLDER, VERSION
from mlpeg.catalog import validate_document
from mlpeg.errors import ConfigError, MlpegError, PartRejected
from mlpeg.paths import landing_dir
from mlpeg.warehouse.model_rows import model_row
from mlpeg.warehouse.validate import (
    read_part,
    validate_predictions,
    validate_reactions,
    validate_references,
)

#: Relative tolerance within which a bundle's reference value equals a stored one.
REFERENCE_RTOL = 1e-9


class BundleRejected(MlpegError):
    """A bundle failed verification; nothing of it was loaded."""


@dataclass
class VerifiedBundle:
    """A bundle whose every file checked out, extracted to ``folder``."""

    path: Path
    bundle_id: str
    manifest: dict[str, Any]
    entry: dict[str, Any]
    folder: Path
    parts: list[Path] = field(default_factory=list)

    @property
    def model(self) -> str:
        """The bundled model's name."""
        return self.manifest["model"]


def _reject(path: Path, sentence: str) -> BundleRejected:
    return BundleRejected(f"Bundle {path} rejected, nothing loaded: {sentence}")


def _read_members(path: Path, folder: Path) -> tuple[bytes, dict[str, Path]]:
    """Extract every member of the tar into ``folder``; return the manifest bytes and files."""
    files: dict[str, Path] = {}
    manifest = None
    try:
        with tarfile.open(path, "r:") as archive:
            for member in archive:
                name = member.name
                pure = PurePosixPath(name)
                if not member.isfile() or pure.is_absolute() or ".." in pure.parts:
                    raise _reject(path, f"it holds '{name}', which is not a plain file inside it.")
                if name in files or (name == MANIFEST and manifest is not None):
                    raise _reject(path, f"it holds '{name}' twice.")
                handle = archive.extractfile(member)
                data = handle.read() if handle is not None else b""
                if len(data) != member.size:
                    raise _reject(path, f"'{name}' is cut short (the file is truncated).")
                if name == MANIFEST:
                    manifest = data
                    continue
                target = folder / "files" / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                files[name] = target
    except (tarfile.TarError, EOFError, OSError) as exc:
        reason = f"it is not a complete bundle (truncated or not a tar: {exc})."
        raise _reject(path, reason) from exc
    if manifest is None:
        raise _reject(path, f"it holds no {MANIFEST}.")
    return manifest, files


def _check_manifest(path: Path, data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise _reject(path, f"its {MANIFEST} is not JSON ({exc}).") from exc
    try:
        validate_document(manifest, "bundle", where=MANIFEST)
    except ConfigError as exc:
        raise _reject(path, f"{exc}") from exc
    if manifest["format"] != FORMAT or manifest["version"] != VERSION:
        raise _reject(path, f"it is not an {FORMAT} of version {VERSION}.")
    return manifest


def _check_files(path: Path, manifest: dict[str, Any], files: dict[str, Path]) -> None:
    """Every listed file present with its size and sha256, and nothing unlisted."""
    listed = {item["name"]: item for item in manifest["files"]}
    for name in sorted(set(files) - set(listed)):
        raise _reject(path, f"it holds {name}, which its manifest does not list (a foreign file).")
    for name, item in listed.items():
        if name not in files:
            raise _reject(path, f"its manifest lists {name}, which it does not hold.")
        data = files[name].read_bytes()
        if len(data) != item["size"] or hashlib.sha256(data).hexdigest() != item["sha256"]:
            raise _reject(
                path, f"{name} does not match its size and sha256 in the manifest (altered)."
            )
    if MODEL_FILE not in listed:
        raise _reject(path, f"it holds no {MODEL_FILE}.")


def _check_entry(path: Path, manifest: dict[str, Any], model_file: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(model_file.read_text())
        validate_document(document, "models", where=MODEL_FILE)
    except (yaml.YAMLError, ConfigError) as exc:
        raise _reject(path, f"its {MODEL_FILE} is not a valid registry entry ({exc}).") from exc
    if not isinstance(document, dict) or list(document) != [manifest["model"]]:
        raise _reject(path, f"its {MODEL_FILE} does not hold exactly model {manifest['model']}.")
    return dict(document[manifest["model"]])


def _identity(family: str, checkpoint: str | None, sha256: str | None) -> tuple:
    return (family, sha256) if sha256 else (family, checkpoint)


def _check_model_here(
    path: Path, con: duckdb.DuckDBPyConnection, model: str, entry: dict[str, Any]
) -> None:
    """Refuse a bundle whose model shares a name with another model here (family, weights)."""
    row = con.execute(
        "select family, checkpoint, checkpoint_sha256 from models where model_key = ?", [model]
    ).fetchall()
    if not row:
        return
    row = row[0]
    checkpoint = entry.get("checkpoint") or entry.get("factory")
    theirs = _identity(entry["family"], checkpoint, entry.get("checkpoint_sha256"))
    if row[2] and entry.get("checkpoint_sha256"):
        same = theirs == _identity(row[0], row[1], row[2])
    else:  # no weights to compare: family and checkpoint (file paths differ by machine)
        same = row[0] == entry["family"] and (
            row[1] == checkpoint or Path(str(row[1])).name == Path(str(checkpoint)).name
        )
    if not same:
        raise _reject(
            path,
            f"model '{model}' here is family {row[0]} with checkpoint {row[1]}, the bundle's "
            f"is family {entry['family']} with checkpoint {checkpoint}; rename one of them.",
        )


def _check_parts(
    path: Path,
    con: duckdb.DuckDBPyConnection,
    bundle: VerifiedBundle,
    files: dict[str, Path],
) -> None:
    """Validate every part as ingest would, and refuse parts of another model."""
    known_models = {row[0] for row in con.execute("select model_key from models").fetchall()}
    known_models.add(bundle.model)
    benchmarks = {row[0] for row in con.execute("select benchmark_key from benchmarks").fetchall()}
    for item in bundle.manifest["files"]:
        if not item["name"].startswith(PARTS_FOLDER + "/"):
            continue
        part = files[item["name"]]
        try:
            table, metadata = read_part(part)
            kind = metadata.get("kind")
            if kind != item.get("kind"):
                raise PartRejected(f"{part.name}: a {kind} part listed as {item.get('kind')}")
            if kind == "predictions":
                validate_predictions(
                    part, table, metadata, known_models=known_models, known_benchmarks=benchmarks
                )
                owner = table.column("model_key")[0].as_py() if table.num_rows else bundle.model
                if owner != bundle.model:
                    raise PartRejected(
                        f"{part.name} holds predictions of '{owner}', not of the bundle's "
                        f"model '{bundle.model}' (a foreign part)"
                    )
            elif kind == "reactions":
                validate_reactions(part, table, known_benchmarks=benchmarks)
                _check_agrees(con, table, "reaction_species", "reaction", "species", "coefficient")
            else:
                validate_references(part, table, known_benchmarks=benchmarks)
                _check_agrees(con, table, "reference_values", "system", "quantity", "value")
        except PartRejected as exc:
            raise _reject(path, f"{str(exc).rstrip('.')}.") from exc
        bundle.parts.append(part)


def _check_agrees(
    con: duckdb.DuckDBPyConnection,
    table: pa.Table,
    stored: str,
    first: str,
    second: str,
    value: str,
) -> None:
    """Refuse shared rows (references, stoichiometry) that differ from those stored here."""
    con.register("bundle_rows", table)
    try:
        clash = con.execute(
            f"select b.benchmark_key, b.{first}, b.{second}, b.{value}, s.{value} "
            f"from bundle_rows b join {stored} s using (benchmark_key, {first}, {second}) "
            f"where abs(b.{value} - s.{value}) > ? * greatest(1, abs(s.{value})) limit 1",
            [REFERENCE_RTOL],
        ).fetchall()
    finally:
        con.unregister("bundle_rows")
    if clash:
        bench, a, b, theirs, ours = clash[0]
        raise PartRejected(
            f"its {stored} for {bench} ({a}, {b}) = {theirs} differ from this warehouse's "
            f"{ours}; results scored against other references cannot be mixed in"
        )


def verify_bundle(path: Path, con: duckdb.DuckDBPyConnection, folder: Path) -> VerifiedBundle:
    """Check a bundle completely against the warehouse ``con``, extracting it to ``folder``.

    Parameters
    ----------
    path
        The bundle file.
    con
        The warehouse it is to be loaded into (read only here).
    folder
        An empty scratch folder.

    Returns
    -------
    VerifiedBundle
        The manifest, the model entry and the parts, ready to load.

    Raises
    ------
    BundleRejected
        One sentence naming the bundle and what is wrong with it.
    """
    manifest_bytes, files = _read_members(path, folder)
    manifest = _check_manifest(path, manifest_bytes)
    _check_files(path, manifest, files)
    entry = _check_entry(path, manifest, files[MODEL_FILE])
    bundle = VerifiedBundle(
        path, hashlib.sha256(manifest_bytes).hexdigest(), manifest, entry, folder
    )
    _check_model_here(path, con, bundle.model, entry)
    _check_parts(path, con, bundle, files)
    return bundle


def _register_model(con: duckdb.DuckDBPyConnection, bundle: VerifiedBundle) -> None:
    """Add the bundle's model to ``models`` when this warehouse does not know it."""
    from mlpeg.models import registry

    source = registry.RegistrySource(str(bundle.path), bundle.folder, {bundle.model: bundle.entry})
    try:
        spec = registry.merge_sources((source,))[bundle.model]
    except ConfigError as exc:
        raise _reject(bundle.path, f"its model entry cannot be registered ({exc}).") from exc
    note = f"from bundle {bundle.bundle_id[:12]} ({bundle.path.name})"
    row = model_row(spec, notes=f"{spec.notes} ({note})" if spec.notes else note)
    row["is_test_only"] = False
    columns = ", ".join(row)
    con.execute(
        f"insert or ignore into models ({columns}) values ({', '.join('?' * len(row))})",
        list(row.values()),
    )


@dataclass(frozen=True)
class BundleResult:
    """What ingesting a bundle did."""

    bundle_id: str
    model: str
    loaded: int
    skipped: int
    rows: int


def ingest_bundle(con: duckdb.DuckDBPyConnection, path: Path, warehouse: Path) -> BundleResult:
    """Verify a bundle, then load its parts and record where it came from.

    Parameters
    ----------
    con
        A writer connection to ``warehouse``.
    path
        The bundle file.
    warehouse
        The warehouse (its landing folder keeps the bundle's parts).

    Raises
    ------
    BundleRejected
        When anything in it fails verification (nothing is loaded then).
    """
    from mlpeg.warehouse.ingest import Outcome, ingest_parts

    with tempfile.TemporaryDirectory(prefix="mlpeg-bundle-") as scratch:
        bundle = verify_bundle(path, con, Path(scratch))
        keep = landing_dir(warehouse) / LANDING_FOLDER / bundle.bundle_id[:16]
        keep.mkdir(parents=True, exist_ok=True)
        kept = []
        for part in bundle.parts:
            target = keep / part.name
            if not target.is_file():
                partial = target.with_name(f".{part.name}.partial")
                shutil.copyfile(part, partial)
                partial.replace(target)
            kept.append(target)
        con.execute("begin transaction")
        try:
            _register_model(con, bundle)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
    results = list(ingest_parts(con, kept))
    rejected = [result for result in results if result.outcome == Outcome.REJECTED]
    if rejected:  # verification passed, so only a clash with rows already here lands here
        raise MlpegError(f"Bundle {path}: {rejected[0].message}")
    _record(con, bundle, path, kept)
    return BundleResult(
        bundle.bundle_id,
        bundle.model,
        sum(r.outcome == Outcome.LOADED for r in results),
        sum(r.outcome == Outcome.SKIPPED for r in results),
        sum(r.rows for r in results if r.outcome == Outcome.LOADED),
    )


def _record(con: duckdb.DuckDBPyConnection, bundle: VerifiedBundle, path: Path, kept: list) -> None:
    from mlpeg.data import sha256_of

    manifest = bundle.manifest
    con.execute("begin transaction")
    con.execute(
        "insert or ignore into bundles (bundle_sha256, model_key, benchmark_keys, source_path, "
        "created_at, created_by, n_parts) values (?, ?, ?, ?, ?, ?::json, ?)",
        [
            bundle.bundle_id,
            bundle.model,
            manifest["benchmarks"],
            str(path.resolve()),
            manifest["created_at"],
            json.dumps(manifest["created_by"]),
            len(kept),
        ],
    )
    for part in kept:
        con.execute(
            "insert or ignore into bundle_parts values (?, ?, ?)",
            [bundle.bundle_id, sha256_of(part), part.name],
        )
    con.execute("commit")
