"""Backups and health checks of a warehouse: ``mlpeg export --snapshot`` and ``mlpeg check``."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from mlpeg import catalog
from mlpeg.data import sha256_of
from mlpeg.errors import MlpegError
from mlpeg.landing import landed_part
from mlpeg.paths import landing_dir
from mlpeg.warehouse import cache
from mlpeg.warehouse.checks import run_checks
from mlpeg.warehouse.connect import write_lock, writer
from mlpeg.warehouse.schema import latest_version, schema_version


def export_snapshot(path: Path, destination: Path) -> dict[str, object]:
    """Write a consistent copy of the warehouse to ``destination``.

    The DuckDB file is copied while the write lock is held (readers keep working on the
    read snapshot), then every table is exported as Parquet from the copy, and the landing
    parts recorded in the warehouse are copied beside it, so the backup can be opened with
    DuckDB, read with any Parquet tool, or re-ingested from scratch.

    Parameters
    ----------
    path
        The warehouse file.
    destination
        A new or empty folder.

    Returns
    -------
    dict
        The manifest written to ``destination/manifest.json``.
    """
    if not path.is_file():
        raise MlpegError(f"No warehouse at {path}.")
    if destination.exists() and any(destination.iterdir()):
        raise MlpegError(f"{destination} is not empty; choose a new folder for the snapshot.")
    destination.mkdir(parents=True, exist_ok=True)
    copy = destination / path.name
    with write_lock(path):
        shutil.copyfile(path, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        parquet = destination / "parquet"
        con.execute(f"export database '{parquet}' (format parquet, compression zstd)")
        parts = con.execute("select file_name, part_sha256 from parts order by 1").fetchall()
        counts = {
            table: con.execute(f'select count(*) from "{table}"').fetchone()[0]
            for (table,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        }
    finally:
        con.close()
    copied = []
    landing = landing_dir(path)
    for file_name, digest in parts:
        source = landed_part(landing, file_name, digest)
        if source is not None:  # a bundle's part keeps its bundles/<id>/ folder
            relative = source.relative_to(landing)
            (destination / "landing" / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination / "landing" / relative)
            copied.append(str(relative))
    manifest = {
        "warehouse": copy.name,
        "sha256": sha256_of(copy),
        "schema_version": latest_version(),
        "row_counts": counts,
        "landing_parts": copied,
    }
    (destination / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


@dataclass(frozen=True)
class Finding:
    """One result of ``mlpeg check``: ``error`` findings make the check fail."""

    level: str
    what: str
    detail: str


ORPHAN_QUERIES = {
    "predictions without a run": "select count(*) from predictions "
    "where run_id not in (select run_id from runs)",
    "predictions whose structure is missing": "select count(*) from predictions "
    "where structure_id not in (select structure_id from structures)",
    "predictions whose output frame is missing": "select count(*) from "
    "(select unnest(frame_ids) as id from predictions) "
    "where id not in (select structure_id from structures)",
    "runs without predictions": "select count(*) from runs "
    "where run_id not in (select distinct run_id from predictions)",
    "predictions of a model not in the models table": "select count(*) from predictions "
    "where model_key not in (select model_key from models)",
    "parts recorded twice under one file name with different content": "select count(*) from "
    "(select file_name from parts group by 1 having count(distinct part_sha256) > 1)",
}


#: Relative tolerance when comparing stored and live numbers: DuckDB's parallel sums may
#: add in another order and differ in the last bits.
RELATIVE_TOLERANCE = 1e-9

#: How ``check`` lines up stored and live rows: the key columns, then the numbers.
_COMPARED = {
    # points are summed per group (their keys need not be unique): count, Σpred, Σref
    "points": (
        "select benchmark_key, model_key, quantity, state, count(*) as n, "
        "sum(pred) as a, sum(ref) as b from {view} group by all",
        ["benchmark_key", "model_key", "quantity", "state"],
    ),
    "metrics": (
        "select benchmark_key, model_key, metric_key, count(*) as n, "
        "sum(value) as a, 0.0 as b from {view} group by all",
        ["benchmark_key", "model_key", "metric_key"],
    ),
}


def _differing_rows(con: duckdb.DuckDBPyConnection, view: str) -> int:
    """Count groups of ``all_<view>`` (stored per run) that disagree with the live views."""
    summary, keys = _COMPARED[view]
    on = " and ".join(f"s.{k} is not distinct from l.{k}" for k in keys)

    def differ(column: str) -> str:
        return (
            f"(s.{column} is distinct from l.{column} and not "
            f"abs(s.{column} - l.{column}) <= {RELATIVE_TOLERANCE} "
            f"* greatest(1.0, abs(l.{column})))"
        )

    return con.execute(
        f"""
        with s as ({summary.format(view=f"all_{view}")}),
        l as ({summary.format(view=f"all_{view}_live")})
        select count(*) from s full join l on {on}
        where s.n is distinct from l.n or {differ("a")} or {differ("b")}
        """
    ).fetchone()[0]


def _stored_rows_finding(con: duckdb.DuckDBPyConnection) -> Finding:
    """Compare the stored per-run points and metrics with the benchmark views, live."""
    points, metrics = _differing_rows(con, "points"), _differing_rows(con, "metrics")
    if points or metrics:
        return Finding(
            "error",
            "stored points and metrics",
            f"{points} point groups and {metrics} metric rows differ from the views; "
            "`mlpeg check --repair` recomputes them",
        )
    return Finding("ok", "stored points and metrics", "equal to the views")


def _declared_check_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    """One finding per benchmark: its ``checks:`` entries and how many rows they saw."""
    findings = []
    for benchmark in catalog.benchmarks().values():
        outcomes = run_checks(con, benchmark)
        failed = [outcome for outcome in outcomes if not outcome.passed]
        n_rows = sum(outcome.n_rows for outcome in outcomes)
        if failed:
            detail = "; ".join(outcome.describe() for outcome in failed)
            findings.append(Finding("error", f"checks of {benchmark.key}", detail))
        else:
            noun = "check holds" if len(outcomes) == 1 else "checks hold"
            detail = f"{len(outcomes)} {noun} on {n_rows:,} rows"
            findings.append(Finding("ok", f"checks of {benchmark.key}", detail))
    return findings


def recompute_in_transaction(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute every run's stored points and metrics in one transaction; return runs."""
    con.execute("begin transaction")
    try:
        n_runs = cache.refresh(con)
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
    return n_runs


def recompute_stored_rows(path: Path) -> int:
    """Open a warehouse for writing and recompute its stored rows; return the runs."""
    if not path.is_file():
        raise MlpegError(f"No warehouse at {path}.")
    with writer(path) as con:
        return recompute_in_transaction(con)


def check(path: Path) -> list[Finding]:
    """Verify a warehouse: schema version, orphan rows, and landing parts that changed.

    Parameters
    ----------
    path
        The warehouse file (opened read-only; the published snapshot is not used, so the
        check sees what writers wrote).

    Returns
    -------
    list of Finding
        Every finding; ``error`` ones mean the warehouse needs attention.
    """
    if not path.is_file():
        raise MlpegError(f"No warehouse at {path}.")
    findings = []
    with write_lock(path):  # a brief, bounded wait: the check must see a quiet file
        con = duckdb.connect(str(path), read_only=True)
    try:
        version = schema_version(con)
        if version != latest_version():
            findings.append(
                Finding(
                    "error",
                    "schema version",
                    f"warehouse has {version}, this mlpeg installs "
                    f"{latest_version()}; open it once for writing",
                )
            )
        else:
            findings.append(Finding("ok", "schema version", str(version)))
        for what, query in ORPHAN_QUERIES.items():
            count = con.execute(query).fetchone()[0]
            level = "ok" if count == 0 else ("warning" if what.startswith("runs") else "error")
            findings.append(Finding(level, what, f"{count} rows"))
        if version == latest_version():
            findings.append(_stored_rows_finding(con))
            findings.extend(_declared_check_findings(con))
        parts = con.execute("select file_name, part_sha256 from parts").fetchall()
    finally:
        con.close()
    landing = landing_dir(path)
    absent = [name for name, digest in parts if landed_part(landing, name, digest) is None]
    changed = [name for name in absent if (landing / name).is_file()]
    missing = [name for name in absent if not (landing / name).is_file()]
    findings.append(
        Finding(
            "error" if changed else "ok",
            "landing parts changed since ingest",
            ", ".join(changed) or f"0 of {len(parts)}",
        )
    )
    findings.append(
        Finding(
            "warning" if missing else "ok",
            "landing parts no longer on disk",
            f"{len(missing)} of {len(parts)}",
        )
    )
    return findings
