"""Terminal front end of the ML-PEG importer and metrics check (used by ``mlpeg.cli``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlpeg.importers.ml_peg import (
    FileStatus,
    ImportReport,
    ModelStatus,
    plan_import,
    plan_tree,
    run_import,
    start_reading,
)
from mlpeg.importers.reading import FolderReader, worker_count
from mlpeg.paths import landing_dir

#: Skipped files and notes listed one per line before the rest are counted.
MAX_LISTED = 20

_STATUS_STYLE = {
    ModelStatus.LOADED: "green",
    ModelStatus.UNCHANGED: "dim",
    ModelStatus.REJECTED: "bold red",
    ModelStatus.EMPTY: "yellow",
}


def _listed(console: Console, title: str, lines: list[str], style: str) -> None:
    if not lines:
        return
    console.print(f"[{style}]{title}[/]")
    for line in lines[:MAX_LISTED]:
        console.print(f"  {line}", highlight=False)
    if len(lines) > MAX_LISTED:
        console.print(f"  … and {len(lines) - MAX_LISTED} more")


def print_import_report(report: ImportReport, console: Console) -> None:
    """Print what an import did: per model, then skipped files, rejections and notes."""
    table = Table(title="ML-PEG import", header_style="bold")
    for column in ("benchmark", "model", "files", "imported", "skipped", "outcome"):
        table.add_column(column, justify="right" if column in {"files", "imported"} else "left")
    skipped = Counter((f.benchmark_key, f.model_key) for f in report.files_with(FileStatus.SKIPPED))
    for model in report.models:
        label = model.model_key + (" [dim](registered)[/]" if model.registered else "")
        n_skipped = skipped[(model.benchmark_key, model.model_key)]
        table.add_row(
            model.benchmark_key,
            label,
            str(model.n_files),
            str(model.n_imported),
            f"[yellow]{n_skipped}[/]" if n_skipped else "0",
            f"[{_STATUS_STYLE[model.status]}]{model.status}[/]",
        )
    console.print(table)
    _listed(
        console,
        "ML-PEG folders not read:",
        [f"{label}: {why}" for label, why in report.skipped_folders],
        "yellow",
    )
    _listed(
        console,
        "Files skipped:",
        [f.message for f in report.files_with(FileStatus.SKIPPED)],
        "yellow",
    )
    _listed(console, "Parts rejected by ingest:", [p.message for p in report.rejected], "bold red")
    _listed(console, "Notes:", report.notes, "cyan")
    if report.registered_models:
        console.print(
            f"Registered {len(report.registered_models)} model(s) with family 'imported' "
            f"(not in models.yml): {', '.join(report.registered_models)}."
        )
    loaded = sum(1 for m in report.models if m.status == ModelStatus.LOADED)
    unchanged = sum(1 for m in report.models if m.status == ModelStatus.UNCHANGED)
    rows = sum(m.part.rows for m in report.models if m.part and m.status == ModelStatus.LOADED)
    console.print(
        f"{len(report.files)} files: {len(report.files_with(FileStatus.IMPORTED))} imported, "
        f"{len(report.files_with(FileStatus.UNCHANGED))} already in, "
        f"{len(report.files_with(FileStatus.SKIPPED))} skipped; {loaded} runs loaded "
        f"({rows:,} predictions), {unchanged} unchanged, "
        f"{sum(p.rows for p in report.references)} new reference values."
    )


def import_ml_peg(
    warehouse: Path,
    root: Path,
    *,
    known_models_only: bool,
    console: Console,
    workers: int | None = None,
) -> int:
    """Run ``mlpeg ingest --from-ml-peg``: import with a progress bar, print the report.

    A new warehouse holds no runs, so its files are read (in worker processes) while its
    schema is installed; otherwise reading starts once the warehouse says which runs it
    already holds, and their folders are not parsed again.

    Returns
    -------
    int
        The exit code: 0 when every file imported or was already in, else 1.
    """
    from mlpeg.warehouse.connect import writer

    worker_count(workers, 1, 1)  # a bad count is refused before anything starts
    plan = plan_tree(root)  # a wrong folder is reported before the warehouse is opened
    reader: FolderReader | None = None
    if not warehouse.is_file():
        reader = start_reading(plan, landing=landing_dir(warehouse), workers=workers)
    try:
        with writer(warehouse) as con:
            plan = plan_import(con, root)
            progress = Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            with progress:
                bar = progress.add_task("import ML-PEG outputs", total=plan.n_files)
                report = run_import(
                    con,
                    plan,
                    landing=landing_dir(warehouse),
                    known_models_only=known_models_only,
                    on_file=lambda: progress.advance(bar),
                    workers=workers,
                    reader=reader,
                )
    finally:
        if reader is not None:
            reader.close()
    print_import_report(report, console)
    return report.exit_code


def check_against_ml_peg(root: Path, console: Console) -> int:
    """Run ``mlpeg benchmarks --check-against``: print differences; 1 if there are any."""
    from mlpeg.importers.metrics_check import compare

    result = compare(root)
    if result.differences:
        table = Table(title=f"Metric definitions: mlpeg vs ML-PEG ({root})", header_style="bold")
        for column in ("benchmark", "metric", "field", "mlpeg", "ML-PEG"):
            table.add_column(column)
        for d in result.differences:
            table.add_row(d.benchmark, d.metric, d.field, str(d.mlpeg), str(d.ml_peg))
        console.print(table)
    console.print(
        f"{result.n_compared} benchmark(s) compared: {len(result.differences)} difference(s)."
    )
    if result.only_in_mlpeg:
        console.print(f"Only in mlpeg: {', '.join(result.only_in_mlpeg)}.")
    if result.only_in_ml_peg:
        console.print(
            f"Only in ML-PEG ({len(result.only_in_ml_peg)}): {', '.join(result.only_in_ml_peg)}."
        )
    return 1 if result.differences else 0
