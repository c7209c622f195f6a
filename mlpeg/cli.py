"""The ``mlpeg`` command line: calc → ingest → views → leaderboard, and SQL for everyone."""

from __future__ import annotations

import contextlib
import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from mlpeg.calc.cli_options import (
    AddressOption,
    BatchOption,
    Engine,
    EngineOption,
    ForceOption,
    RetryFailedOption,
    ThreadsOption,
    TimeoutOption,
    WorkersOption,
    calc_options,
)
from mlpeg.calc.defaults import DEFAULT_BATCH_SIZE
from mlpeg.calc.threads import DEFAULT_THREADS, apply_threads
from mlpeg.errors import MlpegError
from mlpeg.listing import ListFormat, emit, table_console
from mlpeg.paths import default_warehouse, landing_dir
from mlpeg.stopping import SIGTERM_STATUS, exit_on_sigterm, stopped_by_sigterm

if TYPE_CHECKING:  # each command imports what it uses: start-up stays short for all
    from rich.progress import Progress

    from mlpeg import catalog
    from mlpeg.calc.options import CalcOptions
    from mlpeg.models import registry

DEFAULT_WAREHOUSE = default_warehouse()

app = typer.Typer(
    help="Benchmark machine-learned interatomic potentials into a DuckDB warehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

#: The option every command takes (anywhere on the line: main() moves it before the command).
MODELS_FILE_OPTION = "--models-file"


@app.callback()
def _options(
    models_file: Annotated[
        list[Path] | None,
        typer.Option(
            MODELS_FILE_OPTION,
            metavar="PATH",
            help="A models.yml of your own whose entries are added to the shipped registry "
            "(repeatable; any command; also MLPEG_MODELS_FILES, separated by ':').",
        ),
    ] = None,
) -> None:
    """Benchmark machine-learned interatomic potentials into a DuckDB warehouse."""
    if models_file:
        from mlpeg.models.user_registry import use_models_files

        use_models_files(models_file)


def hoist_models_files(argv: list[str]) -> list[str]:
    """Move ``--models-file PATH`` from anywhere on the command line to before the command.

    Click reads an option of the main command only before the subcommand's name; this
    lets ``mlpeg calc -b X23 --models-file mine.yml`` work as ``mlpeg --models-file ...``.
    """
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":  # what follows is literal
            rest.extend(argv[index:])
            break
        if token == MODELS_FILE_OPTION and index + 1 < len(argv):
            front.extend(argv[index : index + 2])
            index += 2
            continue
        if token.startswith(MODELS_FILE_OPTION + "="):
            front.append(token)
        else:
            rest.append(token)
        index += 1
    return front + rest


WarehouseOption = Annotated[
    Path,
    typer.Option(
        "--warehouse",
        "-w",
        envvar="MLPEG_WAREHOUSE",
        help="DuckDB warehouse file; its landing/ folder sits beside it.",
    ),
]
BenchmarkOption = Annotated[
    list[str] | None, typer.Option("--benchmark", "-b", help="Benchmark key (repeatable).")
]
CategoryOption = Annotated[
    list[str] | None, typer.Option("--category", "-c", help="Category key (repeatable).")
]
ModelOption = Annotated[
    list[str] | None,
    typer.Option(
        "--model",
        "--models",
        "-m",
        help="Model name (repeatable); 'default' or 'all-offline' (every model that runs here).",
    ),
]
FullOption = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Each benchmark's full definition instead of its quick band (mlpeg benchmarks "
        "lists the bands).",
    ),
]
FormatOption = Annotated[
    ListFormat,
    typer.Option("--format", "-f", help="table (for people), csv, json or markdown."),
]
DispersionOption = Annotated[
    str | None,
    typer.Option(
        "--dispersion",
        help="none or d3bj: run with this choice instead of each benchmark's declared one "
        "(a comparison run; the leaderboard scores the declared choice).",
    ),
]


def _progress(on: Console | None = None) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=on or console,
        transient=False,
        # rich would route prints through the bars; calc sends them to a log instead
        redirect_stdout=on is None,
        redirect_stderr=on is None,
    )


def _select_benchmarks(
    benchmark_keys: list[str] | None, category_keys: list[str] | None
) -> list[catalog.Benchmark]:
    from mlpeg import catalog

    every = catalog.benchmarks()
    if not benchmark_keys and not category_keys:  # the main job: see Benchmark.in_main_job
        return [bench for bench in every.values() if bench.in_main_job]
    chosen = [catalog.get_benchmark(key) for key in benchmark_keys or []]
    for key in category_keys or []:
        if key not in catalog.categories():
            known = ", ".join(sorted(catalog.categories()))
            raise MlpegError(f"Unknown category '{key}'. Known categories: {known}.")
        chosen.extend(b for b in every.values() if b.category == key)
    return list({bench.key: bench for bench in chosen}.values())


def _metrics_summary(bench: catalog.Benchmark) -> str:
    """One metric by name; several as a count with the weighted ones named."""
    if len(bench.metrics) == 1:
        return bench.metrics[0].key
    weighted = [m.key for m in bench.metrics if m.weight > 0]
    shown = ", ".join(weighted[:2]) + ("…" if len(weighted) > 2 else "")
    return f"{len(bench.metrics)} ({shown} weighted)" if weighted else str(len(bench.metrics))


def _quick_band(bench: catalog.Benchmark) -> str:
    """Return a few words on a benchmark's quick band, for the table."""
    if bench.quick is None:
        return "–"
    if "every" in bench.quick:
        return f"every {bench.quick['every']}th"
    if "first" in bench.quick:
        return f"first {bench.quick['first']}"
    return "calc.py default"


@app.command("benchmarks")
def list_benchmarks(
    check_against: Annotated[
        Path | None,
        typer.Option(
            "--check-against",
            help="An ML-PEG checkout (or its analysis folder): list where its metrics.yml "
            "files differ from our benchmark.yml (unit, good, bad, weight).",
        ),
    ] = None,
    format_: FormatOption = ListFormat.TABLE,
) -> None:
    """List the benchmarks: category, metrics, cost class, quick band and dispersion."""
    from mlpeg import catalog

    if check_against is not None:
        from mlpeg.importers.console import check_against_ml_peg

        raise typer.Exit(check_against_ml_peg(check_against, console))
    benches = list(catalog.benchmarks().values())
    rows = [
        {
            "category": bench.category,
            "benchmark": bench.key,
            "title": bench.title,
            "metrics": [m.key for m in bench.metrics],
            "structures": bench.structures,
            "cost": bench.cost,
            "quick_band": ((bench.quick or {}).get("description") or "").strip() or None,
            "dispersion": bench.dispersion,
            "level_of_theory": bench.level_of_theory,
        }
        for bench in benches
    ]
    table = Table(title="Benchmarks", header_style="bold")
    for column in ("category", "benchmark", "title", "metrics", "structures", "cost", "quick"):
        table.add_column(
            column,
            justify="right" if column == "structures" else "left",
            no_wrap=column in ("category", "benchmark"),
        )
    table.add_column("dispersion")
    table.add_column("level of theory")
    for bench in benches:
        table.add_row(
            bench.category,
            bench.key,
            bench.title,
            _metrics_summary(bench),
            f"{bench.structures:,}" if bench.structures else "–",
            bench.cost,
            _quick_band(bench),
            "D3(BJ)" if bench.dispersion == "d3" else "–",
            bench.level_of_theory,
        )
    table.caption = (
        "main job (mlpeg run): quick benchmarks and those marked main_job, slow ones on their "
        "quick band (--full: the whole definition). dispersion D3(BJ): added to models "
        "trained without dispersion."
    )
    emit(rows, format_, table=table)


def _measured_speed(warehouse: Path) -> dict[str, str]:
    """Return per model key its measured single-point speed as text ("" without a warehouse)."""
    import duckdb

    from mlpeg.warehouse.connect import reader

    if not warehouse.is_file():
        return {}
    try:
        with reader(warehouse) as con:
            rows = con.execute(
                "select model_key, device, median_us_per_atom, n_structures "
                "from model_speed_summary order by model_key, device"
            ).fetchall()
    except (MlpegError, duckdb.Error):  # busy, or a warehouse from before the view
        return {}
    speeds: dict[str, list[str]] = {}
    for model_key, device, us_per_atom, n in rows:
        speeds.setdefault(model_key, []).append(f"{us_per_atom:,.0f} µs/atom ({device}, {n:,})")
    return {key: "; ".join(texts) for key, texts in speeds.items()}


models_app = typer.Typer(
    help="List registered models (no subcommand), or add one of your own (models add).",
    invoke_without_command=True,
)
app.add_typer(models_app, name="models")


@models_app.callback()
def list_models(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include test-only models.")] = False,
    format_: FormatOption = ListFormat.TABLE,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """List registered models: whether each runs here, in which environment, and why not."""
    from mlpeg.models import registry

    if ctx.invoked_subcommand is not None:
        return
    from mlpeg.models import environments

    table = Table(title="Models", header_style="bold")
    for column in (
        "model",
        "family",
        "environment",
        "available",
        "D3",
        "level of theory",
        "elements",
        "accepts",
        "parameters",
        "speed",
        "why",
    ):
        table.add_column(column, no_wrap=column == "model")
    speeds = _measured_speed(warehouse)
    rows = []
    listed = [spec for spec in registry.all_models().values() if all_ or not spec.test_only]
    elsewhere = environments.availability(listed)  # one probe per environment
    for spec in listed:
        available, why = elsewhere.get(spec.name) or registry.availability_here(spec)
        rows.append(
            {
                "model": spec.name,
                "family": spec.family,
                "environment": spec.environment or "main",
                "available": available,
                "trained_on_dispersion": spec.trained_on_dispersion,
                "level_of_theory": spec.level_of_theory,
                "elements": len(spec.elements),
                "parameters": spec.n_params,
                "speed": speeds.get(spec.name),
                "why": why or None,
                "defined_in": registry.model_origin(spec.name),
            }
        )
        table.add_row(
            f"{spec.name} [dim](baseline)[/]" if spec.is_baseline else spec.name,
            spec.family,
            spec.environment or "main",
            "[green]yes[/]" if available else "[red]no[/]",
            "trained" if spec.trained_on_dispersion else "added",
            spec.level_of_theory or "–",
            str(len(spec.elements)),
            spec.accepts.summary(),
            f"{spec.n_params:,}" if spec.n_params else "–",
            speeds.get(spec.name) or "–",
            why,
        )
    n_available = sum(row["available"] for row in rows)
    table.caption = (
        f"{n_available} of {len(listed)} models can run here. D3 'added': a D3(BJ) correction "
        "is added on the benchmarks that declare dispersion: d3, and the result is still the "
        "model's (its runs record it). Speed: median wall time per atom of the single points "
        "in the warehouse's latest runs (device, structures); per benchmark in the view "
        "model_speed."
    )
    emit(rows, format_, table=table)


def _option_pairs(pairs: list[str]) -> dict[str, object]:
    """Turn ``KEY=VALUE`` strings into options (values read as YAML: 1.5, true, [a, b])."""
    import yaml

    options: dict[str, object] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise MlpegError(f"--option must read KEY=VALUE, not '{pair}'.")
        options[key.strip()] = yaml.safe_load(value)
    return options


def _listed(values: list[str] | None) -> list[str]:
    """Split repeated or comma-separated values (``-e H,C -e O``) into one list."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


@models_app.command("add")
def models_add(
    name: Annotated[str, typer.Argument(help="The model's name on the leaderboard.")],
    family: Annotated[
        str,
        typer.Option(help="python (any ASE calculator from a factory), mace, orb, chgnet, ..."),
    ],
    checkpoint: Annotated[
        str | None,
        typer.Option(help="Weights: a local file (stored with its sha256) or a package's name."),
    ] = None,
    factory: Annotated[
        str | None,
        typer.Option(help="family python: package.module:callable returning an ASE calculator."),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", help="KEY=VALUE passed to the family (repeatable)."),
    ] = None,
    elements: Annotated[
        list[str] | None,
        typer.Option(
            "--elements", "-e", help="Elements it covers: H,C,N,O or ranges H-Bi (default all)."
        ),
    ] = None,
    accepts: Annotated[
        list[str] | None,
        typer.Option(help="What else it takes: charge, spin, field (comma-separated)."),
    ] = None,
    level_of_theory: Annotated[str | None, typer.Option(help="Of its training data.")] = None,
    trained_on_dispersion: Annotated[
        bool,
        typer.Option(help="Trained with dispersion (else D3(BJ) is added on d3 benchmarks)."),
    ] = False,
    notes: Annotated[str | None, typer.Option(help="A line about the model.")] = None,
    to: Annotated[
        Path | None,
        typer.Option(help="Registry file to write (default ~/.config/mlpeg/models.yml)."),
    ] = None,
) -> None:
    """Register a model of your own in a user registry (checked first; sha256 of its weights)."""
    from mlpeg.models import registry
    from mlpeg.models.user_registry import add_model, build_entry
    from mlpeg.paths import user_registry_path

    target = (to or user_registry_path()).expanduser()
    entry = build_entry(
        family=family,
        checkpoint=checkpoint,
        factory=factory,
        options=_option_pairs(option or []),
        elements=_listed(elements),
        accepts=_listed(accepts),
        level_of_theory=level_of_theory,
        trained_on_dispersion=trained_on_dispersion,
        notes=notes,
    )
    spec = add_model(name, entry, target)
    available, why = registry.availability(spec)
    pinned = f", sha256 {spec.checkpoint_sha256[:12]}…" if spec.checkpoint_sha256 else ""
    console.print(
        f"Added {name} (family {spec.family}, {spec.checkpoint}{pinned}) to {target}.",
        highlight=False,
    )
    state = "runs here" if available else f"cannot run here: {why}"
    hint = "" if target == user_registry_path() else f" --models-file {target}"
    console.print(f"{name} {state}. Next: mlpeg run -m {name} -b BENCHMARK{hint}", highlight=False)


env_app = typer.Typer(
    help="Environments of their own for models whose packages conflict with this one.",
    no_args_is_help=True,
)
app.add_typer(env_app, name="env")

from mlpeg.cli_profiles import profile_app  # noqa: E402  (beside the other sub-apps)

app.add_typer(profile_app, name="profile")


def _environment_named(name: str):
    """Return the environment named ``name``, or the one a model or family so named uses."""
    from mlpeg.models import registry

    environments = registry.all_environments()
    if name in environments:
        return environments[name]
    used = {
        spec.environment
        for spec in registry.all_models().values()
        if spec.environment and name in (spec.name, spec.family)
    }
    if len(used) == 1:
        return environments[used.pop()]
    return registry.get_environment(name)  # raises, naming the known ones


@env_app.command("build")
def env_build(
    name: Annotated[str, typer.Argument(help="Environment (or a model or family using it).")],
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if up to date.")] = False,
) -> None:
    """Create an environment's venv and install its requirements (pip's output is shown)."""
    from mlpeg.models import environments, registry

    environment = _environment_named(name)
    console.print(
        f"Building environment [bold]{environment.name}[/] in {environment.folder}: "
        + " ".join(environment.requirements),
        highlight=False,
    )
    folder = environments.build(environment, force=force)
    environments.clear_cache()
    members = [s for s in registry.all_models().values() if s.environment == environment.name]
    verdicts = environments.availability(members)
    for spec in members:
        ok, why = verdicts[spec.name]
        mark = "[green]runs[/]" if ok else "[red]cannot run[/]"
        console.print(f"  {spec.name}: {mark} ({why})", highlight=False)
    console.print(f"Environment {environment.name} is ready: {folder}", highlight=False)


@env_app.command("list")
def env_list() -> None:
    """List the environments models.yml defines, their interpreters and their state."""
    from mlpeg.models import environments, registry

    table = Table(title="Environments", header_style="bold")
    for column in ("environment", "interpreter", "requirements", "models", "state"):
        table.add_column(column)
    models = list(registry.all_models().values())
    for environment in registry.all_environments().values():
        members = [spec for spec in models if spec.environment == environment.name]
        result = environments.probe(environment, members)
        state = (
            f"[red]{result.error}[/]"
            if result.error
            else f"[green]ready[/] (Python {result.python_version})"
        )
        table.add_row(
            environment.name,
            str(environment.interpreter),
            "\n".join(environment.requirements) or "(existing interpreter)",
            ", ".join(spec.name for spec in members) or "–",
            state,
        )
    console.print(table)


def _calc(
    benchmarks: list[catalog.Benchmark],
    models: list[registry.ModelSpec],
    *,
    landing: Path,
    device: str | None,
    subset: int | None,
    options: CalcOptions | None = None,
    full: bool = False,
    dispersion: str | None = None,
) -> list:
    from mlpeg.calc.bands import select_tasks
    from mlpeg.calc.cli_options import summary_table
    from mlpeg.calc.runner import check_dispersion, run_tasks, write_references
    from mlpeg.chatter import captured_chatter
    from mlpeg.models import registry
    from mlpeg.models.environments import check as check_environments

    for bench in benchmarks:  # bad choices fail before anything runs
        for spec in models:
            check_dispersion(spec, bench, dispersion)

    models, broken = check_environments(models)
    for spec in models:  # a model from outside mlpeg (family python) is checked on first use
        # what its library prints on the probe dimer is dropped: the check's verdict is
        # its error, and the terminal keeps only mlpeg's own lines
        quiet = io.StringIO()
        with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            registry.preflight(spec, device=device)
    for line in broken:  # one line per broken environment; the other models go on
        err_console.print(f"[bold red]error:[/] {line}", highlight=False)
    summaries = []
    # bound to the real stdout now, so the bars still draw while prints go to the log
    terminal = Console(file=sys.stdout)
    with captured_chatter(landing) as chatter, _progress(terminal) as progress:
        for bench in benchmarks:
            module = bench.calc_module()
            references = module.references()
            if references:  # physicality tests have none: no empty part to ingest
                write_references(references, bench, landing=landing)
            if hasattr(module, "reactions"):  # reaction-energy benchmarks: stoichiometry part
                from mlpeg.reactions import write_reactions

                write_reactions(module.reactions(), bench, landing=landing)
            tasks, band = select_tasks(bench, module, full=full, subset=subset)
            for spec in models:
                chosen = check_dispersion(spec, bench, dispersion)
                key = spec.name + (" +D3" if chosen == "d3bj" else "")
                key += "" if band == "full" else f" ({band})"
                bar = progress.add_task(f"{bench.key} × {key}", total=len(tasks))
                summaries.append(
                    run_tasks(
                        tasks,
                        spec,
                        bench,
                        landing=landing,
                        device=device,
                        on_task_done=lambda bar=bar: progress.advance(bar),
                        options=options,
                        dispersion=dispersion,
                        band=band,
                    )
                )
                if summaries[-1].note:
                    progress.console.print(f"{bench.key} × {key}: {summaries[-1].note}")
    console.print(summary_table(summaries))
    if chatter.summary():
        console.print(chatter.summary(), style="dim", highlight=False)
    return summaries, broken


@app.command("calc")
def calc(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    benchmark: BenchmarkOption = None,
    category: CategoryOption = None,
    model: ModelOption = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    subset: Annotated[int | None, typer.Option(help="Only the first N systems.")] = None,
    engine: EngineOption = Engine.LOCAL,
    address: AddressOption = None,
    workers: WorkersOption = None,
    force: ForceOption = False,
    retry_failed: RetryFailedOption = False,
    timeout: TimeoutOption = None,
    batch_size: BatchOption = DEFAULT_BATCH_SIZE,
    full: FullOption = False,
    dispersion: DispersionOption = None,
    threads: ThreadsOption = DEFAULT_THREADS,
) -> None:
    """Run models on benchmarks and write landing Parquet parts (never the warehouse).

    Default: the main job's benchmarks (cost quick, or main_job: true), slow ones on their
    quick band, with the default models. Done tasks are skipped and a killed run continues
    where it stopped (unless --force).
    """
    from mlpeg.models import registry

    benchmarks = _select_benchmarks(benchmark, category)
    models = registry.select_models(model)
    apply_threads(threads)
    options = calc_options(
        engine=engine,
        address=address,
        workers=workers,
        force=force,
        retry_failed=retry_failed,
        timeout=timeout,
        batch_size=batch_size,
    )
    _, broken = _calc(
        benchmarks,
        models,
        landing=landing_dir(warehouse),
        device=device,
        subset=subset,
        options=options,
        full=full,
        dispersion=dispersion,
    )
    if broken:
        raise typer.Exit(1)


def _update_intervals(con, progress: Progress) -> None:
    """Resample the runs the ingest changed (once, after every part is in), with progress."""
    from mlpeg.warehouse.intervals import update

    bar = progress.add_task("bootstrap intervals", total=None)

    def advance(done: int, total: int) -> None:
        progress.update(bar, completed=done, total=total)

    report = update(con, progress=advance)
    if not report.n_runs:  # nothing changed: no bar left behind
        progress.update(bar, visible=False)


def _ingest(warehouse: Path, paths: list[Path]) -> int:
    from mlpeg.bundle import is_bundle_path
    from mlpeg.warehouse.connect import writer
    from mlpeg.warehouse.ingest import IngestReport, Outcome, find_parts, ingest_parts

    bundles = [path for path in paths if is_bundle_path(path)]
    if bundles:  # a bundle is verified whole, then its parts are ingested like any
        _ingest_bundles(warehouse, bundles)
        paths = [path for path in paths if path not in bundles]
        if not paths:
            return 0
    parts = find_parts(paths)
    report = IngestReport()
    with writer(warehouse) as con, _progress() as progress:
        bar = progress.add_task("ingest", total=len(parts))
        for result in ingest_parts(con, parts):
            report.results.append(result)
            if result.outcome == Outcome.REJECTED:
                progress.console.print(f"[red]rejected[/] {result.message}")
            progress.advance(bar)
        _update_intervals(con, progress)
    console.print(
        f"{len(parts)} parts: {report.count(Outcome.LOADED)} loaded "
        f"({report.rows_loaded:,} rows), {report.count(Outcome.SKIPPED)} already in, "
        f"{report.count(Outcome.REJECTED)} rejected."
    )
    return 1 if report.rejected else 0


def _ingest_bundles(warehouse: Path, bundles: list[Path]) -> None:
    from mlpeg.bundle.unpack import ingest_bundle
    from mlpeg.warehouse.connect import writer

    with writer(warehouse) as con:
        for path in bundles:
            with console.status(f"verifying {path}"):
                result = ingest_bundle(con, path, warehouse)
            console.print(
                f"Bundle {path.name} ({result.model}, id {result.bundle_id[:12]}): every "
                f"checksum verified; {result.loaded} parts loaded ({result.rows:,} rows), "
                f"{result.skipped} already in.",
                highlight=False,
            )


@app.command("bundle")
def bundle(
    model: Annotated[str, typer.Option("--model", "-m", help="The model whose results to pack.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The bundle file to write.")],
    benchmark: BenchmarkOption = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Pack a model's results (parts, registry entry, provenance, sha256 manifest) in one file.

    Another warehouse loads it with mlpeg ingest FILE, which verifies every checksum first.
    """
    from mlpeg.bundle.pack import write_bundle

    manifest = write_bundle(warehouse, model, output, benchmarks=benchmark)
    parts = [item for item in manifest["files"] if item["name"].startswith("parts/")]
    size = output.stat().st_size
    console.print(
        f"Wrote {output} ({size / 1e6:,.1f} MB): {model} on {', '.join(manifest['benchmarks'])}, "
        f"{len(parts)} parts with their sha256. Load it elsewhere with: mlpeg ingest {output.name}",
        highlight=False,
    )


@app.command("ingest")
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Parts, folders, or bundles (from mlpeg bundle; verified first)."),
    ] = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    from_ml_peg: Annotated[
        Path | None,
        typer.Option(
            "--from-ml-peg",
            help="Import an ML-PEG calc outputs tree (<category>/<benchmark>/outputs/<model>/"
            "*.xyz, or an ML-PEG checkout) for every benchmark mlpeg can map.",
        ),
    ] = None,
    known_models_only: Annotated[
        bool,
        typer.Option(
            "--known-models-only",
            help="With --from-ml-peg: refuse model folders not in models.yml instead of "
            "registering them with family 'imported'.",
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="With --from-ml-peg: processes reading the files (0: this one; default: "
            "one per core but one, for a large tree).",
        ),
    ] = None,
) -> None:
    """Validate landing parts and load them into the warehouse (idempotent)."""
    if workers is not None and from_ml_peg is None:
        raise MlpegError("--workers sets the processes of --from-ml-peg; give that too.")
    if from_ml_peg is not None:
        from mlpeg.importers.console import import_ml_peg

        code = import_ml_peg(
            warehouse,
            from_ml_peg,
            known_models_only=known_models_only,
            console=console,
            workers=workers,
        )
        if not paths:
            raise typer.Exit(code)
        raise typer.Exit(max(code, _ingest(warehouse, paths)))
    code = _ingest(warehouse, paths or [landing_dir(warehouse)])
    raise typer.Exit(code)


class OutputFormat(StrEnum):
    """Formats of ``mlpeg sql`` output."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"


@app.command("sql")
def sql(
    query: Annotated[str | None, typer.Argument(help="SQL to run on the warehouse.")] = None,
    explain: Annotated[
        str | None,
        typer.Option(help="Say which step of sql/manifest.yml builds this view and what it reads."),
    ] = None,
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    format_: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    write: Annotated[bool, typer.Option(help="Open read-write (default read-only).")] = False,
) -> None:
    """Run SQL on the warehouse, read-only unless --write; or --explain a view."""
    import duckdb
    import polars as pl

    from mlpeg.render import arrow_table
    from mlpeg.warehouse.connect import reader, writer

    if explain is not None:
        _explain(warehouse, explain)
        return
    if query is None:
        raise MlpegError("Give a SQL query, or --explain VIEW.")

    n_refreshed = 0
    with writer(warehouse) if write else reader(warehouse) as con:
        # a cursor of its own: DuckDB refuses con.sql() while an earlier execute() on the
        # connection (e.g. the writer's install check) has rows left unfetched
        cursor = con.cursor()
        try:
            relation = cursor.sql(query)
            result = relation.to_arrow_table() if relation is not None else None
        except duckdb.Error as exc:
            raise MlpegError(f"SQL error: {str(exc).splitlines()[0]}") from exc
        finally:
            cursor.close()
        if write:  # the statement may have changed what stored points and metrics come from
            from mlpeg.warehouse.maintenance import recompute_in_transaction

            n_refreshed = recompute_in_transaction(con)
    if write:  # on stderr, so that --format csv/json output stays clean
        err_console.print(f"Stored points and metrics of {n_refreshed:,} runs recomputed.")
    if result is None:
        console.print("ok")
        return
    if format_ == OutputFormat.TABLE:
        table_console().print(arrow_table(result))
        return
    frame = pl.from_arrow(result)
    if format_ == OutputFormat.PARQUET:
        if output is None:
            raise MlpegError("--format parquet needs --output FILE.")
        frame.write_parquet(output)
    elif format_ == OutputFormat.CSV:
        text = frame.write_csv()
        output.write_text(text) if output else sys.stdout.write(text)
    else:
        text = frame.write_json()
        output.write_text(text) if output else sys.stdout.write(text + "\n")


def _explain(warehouse: Path, name: str) -> None:
    from rich.table import Table

    from mlpeg.warehouse.connect import reader
    from mlpeg.warehouse.sqlgraph import explain

    with reader(warehouse) as con:
        found = explain(con, name)
    step = f"step {found.step.position}, {found.step.label}" if found.step else "no step"
    console.print(f"[bold]{found.name}[/] ({found.kind}): {step}")
    console.print(f"  from {found.source}")
    table = Table("reads", "built by", box=None, pad_edge=False)
    for referenced, built_by in found.reads:
        table.add_row(referenced, built_by)
    console.print(table if found.reads else "  reads nothing the warehouse builds")


def _leaderboard_intervals(con, rows: list[dict], columns: list[str]) -> list[str]:
    """Add ``<column>__lo`` and ``<column>__hi`` after overall and each category column."""
    found = con.execute(
        "select model_key, coalesce(category_key, 'overall'), lo, hi from score_intervals "
        "where level in ('overall', 'category')"
    ).fetchall()
    ends = {(model, column): (lo, hi) for model, column, lo, hi in found}
    scored = ["overall", *(c for c in columns if f"{c}__state" in columns)]
    for row in rows:
        for column in scored:
            row[f"{column}__lo"], row[f"{column}__hi"] = ends.get(
                (row["model_key"], column), (None, None)
            )
    ordered = []
    for column in columns:
        ordered.append(column)
        if column in scored:
            ordered += [f"{column}__lo", f"{column}__hi"]
    return ordered


def _show_leaderboard(
    warehouse: Path,
    category: str | None,
    format_: ListFormat = ListFormat.TABLE,
    *,
    baselines: bool = True,
    profile: str | None = None,
    ci: bool = False,
) -> None:
    from mlpeg.render import INTERVAL_LEGEND, MARKS_LEGEND, leaderboard_table, marked_score
    from mlpeg.warehouse.connect import reader
    from mlpeg.warehouse.intervals import describe

    hidden = "" if baselines else " where model_kind != 'baseline'"
    with reader(warehouse) as con:
        _use_profile(con, profile)
        described = describe(con) if ci else ""
        if category is None:
            # Python rows straight from DuckDB: no pyarrow (and numpy) to import for a table
            board = con.execute(f"select * from leaderboard{hidden}")
            columns = [column[0] for column in board.description]
            records = [dict(zip(columns, row, strict=True)) for row in board.fetchall()]
            rows = con.execute(
                "select category_key, title, weight from categories "
                "where category_key in (select category_key from benchmarks) order by 1"
            ).fetchall()
            titles = {key: title for key, title, _ in rows}
            weights = {key: weight for key, _, weight in rows}
            if profile is not None:
                weights = _profile_weights(con, profile, weights)
            title = "Leaderboard" if profile is None else f"Leaderboard (profile {profile})"
            if ci:
                columns = _leaderboard_intervals(con, records, columns)
            table = leaderboard_table(
                records,
                titles,
                title,
                weights=weights,
                intervals=ci,
            )
            if ci:
                table.caption = "\n".join(filter(None, [table.caption, described]))
            emit(records, format_, table=table, columns=columns)
            return
        scores = con.execute(
            "select model_key, benchmark_key, score, state, dispersion, band "
            "from benchmark_scores where category_key = ? and (? or model_key not in "
            "(select model_key from models where kind = 'baseline')) "
            "order by model_key, benchmark_key",
            [category, baselines],
        ).fetchall()
        ends = {}
        if ci:
            found = con.execute(
                "select model_key, benchmark_key, lo, hi from score_intervals "
                "where level = 'benchmark' and category_key = ?",
                [category],
            ).fetchall()
            ends = {(model, bench): (lo, hi) for model, bench, lo, hi in found}
    if not scores:
        raise MlpegError(f"No benchmark scores for category '{category}'.")
    columns = ["model_key", "benchmark_key", "score", "state", "dispersion", "band"]
    if ci:
        columns[3:3] = ["score__lo", "score__hi"]
        scores = [(*row[:3], *ends.get((row[0], row[1]), (None, None)), *row[3:]) for row in scores]
    benchmarks = sorted({row[1] for row in scores})
    table = Table(title=f"Leaderboard: {category}", header_style="bold")
    table.add_column("model", no_wrap=True)
    for key in benchmarks:
        table.add_column(key, justify="right")
    by_model: dict[str, dict[str, dict]] = {}
    for row in scores:
        cell = dict(zip(columns, row, strict=True))
        by_model.setdefault(cell["model_key"], {})[cell["benchmark_key"]] = cell
    for model_key, cells in by_model.items():
        shown = (cells.get(b, {"state": "not_run"}) for b in benchmarks)
        table.add_row(
            model_key,
            *(
                marked_score(
                    cell.get("score"),
                    cell["state"],
                    d3=cell.get("dispersion") == "d3bj",
                    quick=cell.get("band") in ("quick", "subset"),
                    interval=(cell.get("score__lo"), cell.get("score__hi")) if ci else None,
                )
                for cell in shown
            ),
        )
    table.caption = "\n".join([MARKS_LEGEND, INTERVAL_LEGEND, described] if ci else [MARKS_LEGEND])
    emit([dict(zip(columns, row, strict=True)) for row in scores], format_, table=table)


def _use_profile(con, name: str | None) -> None:
    """Score the queries on ``con`` under a saved profile (``mlpeg_profile``), if named."""
    if name is not None:
        from mlpeg import profiles

        profiles.use(con, name)


def _profile_weights(con, name: str, defaults: dict[str, float]) -> dict[str, float]:
    """Return each category's weight under profile ``name`` (for the table's headers)."""
    from mlpeg import profiles

    chosen = profiles.get(con, name)
    return {key: chosen.category_weight(key, weight) for key, weight in defaults.items()}


ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Score under a saved profile's weights and thresholds (mlpeg profile list).",
    ),
]


@app.command("leaderboard")
def leaderboard(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    format_: FormatOption = ListFormat.TABLE,
    baselines: Annotated[
        bool,
        typer.Option(
            "--baselines/--no-baselines",
            help="Show or hide baseline methods (GFN-xTB), which are not MLIPs.",
        ),
    ] = True,
    profile: ProfileOption = None,
    ci: Annotated[
        bool,
        typer.Option(
            "--ci",
            help="Show 95 % bootstrap intervals (± half-width; csv, json and markdown give "
            "<column>__lo and <column>__hi).",
        ),
    ] = False,
) -> None:
    """Print the leaderboard (or one category's benchmark scores).

    One row per model. ᴰ³ marks scores computed with D3(BJ) added, * those from a quick
    band or subset; csv and json carry them as columns (``<category>__marks``, or
    ``dispersion`` and ``band`` per benchmark). With ``--ci``, each score gets its 95 %
    bootstrap interval: each benchmark's systems resampled with replacement (1,000 times,
    fixed seed) and scored the same way.
    """
    _show_leaderboard(warehouse, category, format_, baselines=baselines, profile=profile, ci=ci)


@app.command("runs")
def list_runs(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    benchmark: BenchmarkOption = None,
    model: ModelOption = None,
    format_: FormatOption = ListFormat.TABLE,
) -> None:
    """List the stored runs, newest first: dispersion, band, state, and which are scored."""
    from mlpeg.warehouse.connect import reader

    with reader(warehouse) as con:
        result = con.execute(
            """
            select
                run_id, model_key, benchmark_key, dispersion, band, status, ended_at,
                run_id in (select run_id from selected_runs) as is_scored,
            from runs
            where (? is null or list_contains(?::varchar[], benchmark_key))
              and (? is null or list_contains(?::varchar[], model_key))
            order by ended_at desc, run_id desc
            """,
            [benchmark, benchmark, model, model],
        ).to_arrow_table()
    rows = result.to_pylist()
    table = Table(title="Runs", header_style="bold")
    for column in result.column_names:
        table.add_column(column, no_wrap=column in ("run_id", "model_key", "benchmark_key"))
    for row in rows:
        table.add_row(*(_cell_text(value) for value in row.values()))
    table.caption = "is_scored: the run the leaderboard scores for its (model, benchmark)."
    emit(rows, format_, table=table, columns=result.column_names)


def _cell_text(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@app.command("run")
def run(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    benchmark: BenchmarkOption = None,
    category: CategoryOption = None,
    model: ModelOption = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    subset: Annotated[int | None, typer.Option(help="Only the first N systems.")] = None,
    engine: EngineOption = Engine.LOCAL,
    address: AddressOption = None,
    workers: WorkersOption = None,
    force: ForceOption = False,
    timeout: TimeoutOption = None,
    full: FullOption = False,
    threads: ThreadsOption = DEFAULT_THREADS,
) -> None:
    """Calc, ingest and print the leaderboard.

    Default: the main job's benchmarks (cost quick, or main_job: true; slow ones on their
    quick band) with the default models, so each model gets a score in every category.
    """
    from mlpeg.models import registry

    benchmarks = _select_benchmarks(benchmark, category)
    models = registry.select_models(model)
    landing = landing_dir(warehouse)
    apply_threads(threads)
    options = calc_options(
        engine=engine, address=address, workers=workers, force=force, timeout=timeout
    )
    summaries, broken = _calc(
        benchmarks,
        models,
        landing=landing,
        device=device,
        subset=subset,
        options=options,
        full=full,
    )
    code = _ingest(
        warehouse,
        [part for s in summaries for part in s.parts]
        + sorted(landing.glob("*__references.parquet"))
        + sorted(landing.glob("*__reactions.parquet")),
    )
    _show_leaderboard(warehouse, None)
    raise typer.Exit(code or int(bool(broken)))


@app.command("export")
def export(
    snapshot: Annotated[Path, typer.Option("--snapshot", help="New folder for the backup.")],
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
) -> None:
    """Write a consistent backup: DuckDB file, every table as Parquet, the landing parts."""
    from mlpeg.warehouse.maintenance import export_snapshot

    with console.status(f"exporting {warehouse} to {snapshot}"):
        manifest = export_snapshot(warehouse, snapshot)
    rows = sum(manifest["row_counts"].values())
    console.print(
        f"Exported {rows:,} rows in {len(manifest['row_counts'])} tables and "
        f"{len(manifest['landing_parts'])} landing parts to {snapshot}."
    )


@app.command("check")
def check(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    repair: Annotated[
        bool, typer.Option("--repair", help="Recompute stored per-run points and metrics first.")
    ] = False,
) -> None:
    """Verify a warehouse: schema version, orphan rows, stored rows, changed landing parts."""
    from mlpeg.warehouse.maintenance import check as run_check
    from mlpeg.warehouse.maintenance import recompute_stored_rows

    if repair:
        with console.status("recomputing stored points and metrics"):
            n_runs = recompute_stored_rows(warehouse)
        console.print(f"Recomputed the points and metrics of {n_runs:,} runs.")
    findings = run_check(warehouse)
    table = Table(title=f"Check of {warehouse}", header_style="bold")
    for column in ("", "check", "result"):
        table.add_column(column)
    marks = {"ok": "[green]ok[/]", "warning": "[yellow]warning[/]", "error": "[red]error[/]"}
    for finding in findings:
        table.add_row(marks[finding.level], finding.what, finding.detail)
    console.print(table)
    raise typer.Exit(1 if any(f.level == "error" for f in findings) else 0)


@app.command("app")
def serve_app(
    warehouse: WarehouseOption = DEFAULT_WAREHOUSE,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on (default: this machine).")] = (
        "127.0.0.1"
    ),
    no_sql: Annotated[bool, typer.Option("--no-sql", help="Do not serve the SQL page.")] = False,
) -> None:
    """Serve the leaderboard app (Streamlit) on the warehouse, read-only and offline."""
    from mlpeg.appdata.launch import launch

    launch(warehouse, port=port, host=host, sql_page=not no_sql)  # becomes the server


def main() -> None:
    """Entry point: run the CLI, turning user errors into one line on stderr.

    SIGTERM ends it as Ctrl-C does, through every clean-up, so nothing it started is left.
    """
    exit_on_sigterm()
    try:
        app(args=hoist_models_files(sys.argv[1:]), prog_name="mlpeg")
    except SystemExit as exc:
        raise SystemExit(SIGTERM_STATUS if stopped_by_sigterm() else exc.code) from None
    except MlpegError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
