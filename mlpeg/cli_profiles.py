"""``mlpeg profile save|list|show|delete``: saved scoring profiles (see :mod:`mlpeg.profiles`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from mlpeg.paths import default_warehouse

profile_app = typer.Typer(
    help="Saved scoring profiles: category and benchmark weights and metric thresholds under "
    "a name (mlpeg leaderboard --profile NAME; in SQL: set variable mlpeg_profile = 'NAME').",
    no_args_is_help=True,
)
console = Console()
DEFAULT_WAREHOUSE = default_warehouse()
err_console = Console(stderr=True)

Warehouse = Annotated[
    Path,
    typer.Option(
        "--warehouse",
        "-w",
        envvar="MLPEG_WAREHOUSE",
        help="DuckDB warehouse file; its landing/ folder sits beside it.",
    ),
]


@profile_app.command("save")
def profile_save(
    file: Annotated[
        Path, typer.Argument(help="The profile as YAML (as mlpeg profile show writes it).")
    ],
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Save under this name instead of the file's.")
    ] = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
) -> None:
    """Import a profile from YAML into the warehouse (replacing one of the same name)."""
    from mlpeg import profiles
    from mlpeg.warehouse.connect import writer

    profile = profiles.read_yaml(file, name=name)
    with writer(warehouse) as con:
        replaced = profiles.save(con, profile, where=str(file))
    verb = "Replaced" if replaced else "Saved"
    console.print(f"{verb} profile '{profile.name}'.", highlight=False)


@profile_app.command("list")
def profile_list(warehouse: Warehouse = DEFAULT_WAREHOUSE) -> None:
    """List the saved profiles (ML-PEG's presets are built in)."""
    from mlpeg import profiles
    from mlpeg.warehouse.connect import reader

    with reader(warehouse) as con:
        saved = profiles.list_profiles(con)
    table = Table("profile", "kind", "changes", "description", header_style="bold", box=None)
    for profile in saved:
        n_categories = len(profile.category_weights)
        changes = [
            f"{n_categories} categor{'y' if n_categories == 1 else 'ies'}" if n_categories else "",
            "others 0" if profile.unlisted_category_weight == 0 else "",
            f"{len(profile.benchmark_weights)} benchmarks" if profile.benchmark_weights else "",
            f"{len(profile.metric_overrides)} metrics" if profile.metric_overrides else "",
        ]
        table.add_row(
            profile.name,
            "built-in" if profile.is_builtin else "saved",
            ", ".join(filter(None, changes)) or "none",
            profile.description,
        )
    console.print(table)


@profile_app.command("show")
def profile_show(
    name: Annotated[str, typer.Argument(help="The profile's name.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the YAML to this file.")
    ] = None,
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
) -> None:
    """Print a profile as YAML (export it), or write it to a file with --output."""
    from mlpeg import profiles
    from mlpeg.warehouse.connect import reader

    with reader(warehouse) as con:
        text = profiles.to_yaml(profiles.get(con, name))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        err_console.print(f"Wrote profile '{name}' to {output}.", highlight=False)


@profile_app.command("delete")
def profile_delete(
    name: Annotated[str, typer.Argument(help="The profile's name.")],
    warehouse: Warehouse = DEFAULT_WAREHOUSE,
) -> None:
    """Delete a saved profile (built-in ones cannot be deleted)."""
    from mlpeg import profiles
    from mlpeg.warehouse.connect import writer

    with writer(warehouse) as con:
        profiles.delete(con, name)
    console.print(f"Deleted profile '{name}'.", highlight=False)
