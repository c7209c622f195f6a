"""Remove each protection once, in a scratch copy, and check that its test then fails.

    .venv/bin/python .ci/protections.py [--only NAME ...] [--keep]

Issue 9 asks that every guard (transactions, locks, read-only access, validation, checksums,
...) has a test that fails when the guard is removed. Each entry below names a guard, the
exact source text that implements it, a replacement that disables it, and the tests that
must catch it. The repository is copied (without .venv) to a temporary folder, one guard is
removed there, and those tests run against the copy (``PYTHONPATH`` puts it first). A guard
whose tests still pass is reported as unprotected and the script exits 1.

Run by ``make test`` after the suite (it runs the selected tests once per guard: a few minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
console = Console()


@dataclass(frozen=True)
class Protection:
    """A guard, the text that implements it, what replaces it, and the tests that must fail."""

    name: str
    path: str
    guard: str
    without: str
    tests: tuple[str, ...]
    occurrences: int = 1  # a guard in more than one place is removed everywhere


PROTECTIONS = [
    Protection(
        "one transaction per batch of whole parts",
        "mlpeg/warehouse/ingest.py",
        'con.execute("begin transaction")',
        'con.execute("select 1")',
        (
            "tests/test_hardening.py::test_a_crash_inside_a_batch_rolls_it_back_and_keeps_the_batches_before",
        ),
    ),
    Protection(
        "a rolled-back batch forgets which structures it stored",
        "mlpeg/warehouse/batch.py",
        "        self.stored_ids = None\n",
        "        pass\n",
        ("tests/test_ingest.py::test_a_database_error_in_a_batch_rejects_only_its_part",),
    ),
    Protection(
        "a second part of a run in a batch is checked against the first",
        "mlpeg/warehouse/ingest.py",
        "settled = self.commit() if self.batch.holds_run(part.run_id) else {}",
        "settled = {}",
        ("tests/test_ingest.py::test_two_parts_of_one_run_in_one_call",),
    ),
    Protection(
        "ML-PEG import workers die with their parent (else they hold its write lock)",
        "mlpeg/importers/reading.py",
        "target=_exit_with_parent,",
        "target=lambda parent: None,",
        ("tests/test_import_parallel.py::test_workers_exit_when_the_importer_is_killed",),
    ),
    Protection(
        "writer lock (flock)",
        "mlpeg/warehouse/connect.py",
        "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "pass",
        ("tests/test_hardening.py::test_writer_gives_up_with_a_clear_message",),
    ),
    Protection(
        "readers: external access off",
        "mlpeg/warehouse/connect.py",
        '"enable_external_access": False,',
        '"enable_external_access": True,',
        ("tests/test_hardening.py::test_hostile_sql_is_refused",),
    ),
    Protection(
        "readers open read-only",
        "mlpeg/warehouse/connect.py",
        "con = _connect_with_retry(read_target(path), read_only=True,",
        "con = _connect_with_retry(read_target(path), read_only=False,",
        ("tests/test_hardening.py::test_hostile_sql_is_refused",),
    ),
    Protection(
        "readers: configuration locked as the database opens",
        "mlpeg/warehouse/connect.py",
        '"lock_configuration": True,',
        '"lock_configuration": False,',
        ("tests/test_snapshot_scores.py::test_snapshot_reader_still_cannot_write_or_read_files",),
    ),
    Protection(
        "the read snapshot is replaced only by renaming a finished copy",
        "mlpeg/warehouse/connect.py",
        'tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")',
        "tmp = target",
        ("tests/test_snapshot_scores.py::test_crash_while_publishing_keeps_the_previous_snapshot",),
    ),
    Protection(
        "stored scores answer only while no scoring variable is set",
        "mlpeg/warehouse/snapshot.py",
        'f"    case when {condition} then',
        'f"    case when true then',
        ("tests/test_snapshot_scores.py::test_weights_profiles_and_history_still_rescore",),
    ),
    Protection(
        "non-finite energies refused",
        "mlpeg/warehouse/validate.py",
        '_reject(path, "is not finite (NaN or inf)", row, "energy")',
        "pass",
        ("tests/test_ingest.py::test_bad_values_are_named",),
    ),
    Protection(
        "declared units checked",
        "mlpeg/warehouse/validate.py",
        "if expected is not None and unit != expected:",
        "if False:",
        ("tests/test_ingest.py::test_wrong_units_declared",),
    ),
    Protection(
        "data files checked against sha256",
        "mlpeg/data.py",
        "if actual != remote.sha256:",
        "if False:",
        ("tests/test_data.py::test_checksum_mismatch_is_refused_and_not_cached",),
    ),
    Protection(
        "downloads land under a temporary name",
        "mlpeg/data.py",
        "tmp = Path(tmp_name)",
        "tmp = target",
        ("tests/test_data.py::test_a_download_killed_midway_leaves_nothing_cached",),
    ),
    Protection(
        "same part twice is skipped (both checks)",
        "mlpeg/warehouse/ingest.py",
        "in known.part_digests:",
        "in ():",
        ("tests/test_ingest.py::test_ingest_twice_changes_nothing",),
        occurrences=2,
    ),
    Protection(
        "orphan rows reported by check",
        "mlpeg/warehouse/maintenance.py",
        '"where structure_id not in (select structure_id from structures)",',
        '"where false",',
        ("tests/test_hardening.py::test_export_snapshot_while_reading_and_check",),
    ),
    Protection(
        "stored rows follow new references",
        "mlpeg/warehouse/ingest.py",
        "cache.refresh(con, benchmark_keys=keys)",
        "pass",
        ("tests/test_run_cache.py",),
    ),
    Protection(
        "app binds 127.0.0.1 by default",
        "mlpeg/cli.py",
        '"127.0.0.1"\n    ),',
        '"0.0.0.0"\n    ),',
        ("tests/test_app_cli.py",),
    ),
    Protection(
        "app --no-sql hides the SQL page",
        "streamlit_app/ui_state.py",
        'return os.environ.get("MLPEG_APP_NO_SQL", "0") != "1"',
        "return True",
        ("tests/test_app_pages.py::test_no_sql_hides_the_sql_page",),
    ),
    Protection(
        "din numbers must be finite",
        "mlpeg/refdata.py",
        "if not math.isfinite(value):",
        "if False:",
        ("tests/test_refdata_fuzz.py",),
    ),
    Protection(
        "mlpeg app becomes the server (exec)",
        "mlpeg/appdata/launch.py",
        "os.execve(sys.executable, command, environment)",
        "pass",
        ("tests/test_app_stop.py",),
    ),
    Protection(
        "SIGTERM runs the clean-up",
        "mlpeg/cli.py",
        "    exit_on_sigterm()\n    try:",
        "    try:",
        ("tests/test_calc_stop.py::test_a_stopped_calc_leaves_no_process[worker-SIGTERM]",),
    ),
    Protection(
        "model worker dies with its parent",
        "mlpeg/calc/isolate.py",
        "    die_with_parent(parent_pid)",
        "    pass",
        ("tests/test_calc_stop.py::test_a_stopped_calc_leaves_no_process[worker-SIGKILL]",),
    ),
    Protection(
        "captured streams have a descriptor",
        "mlpeg/chatter.py",
        "        return self._handle.fileno()",
        "        raise io.UnsupportedOperation('fileno')",
        (
            "tests/test_render_chatter.py::test_the_captured_streams_are_real_files_for_code_that_asks",
        ),
    ),
]


SKIPPED_EVERYWHERE = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache"}
SKIPPED_HERE = {ROOT: {"warehouse"}, ROOT / "bench": {"results"}}


def _ignore(folder: str, names: list[str]) -> list[str]:
    skipped = SKIPPED_EVERYWHERE | SKIPPED_HERE.get(Path(folder), set())
    return [name for name in names if name in skipped]


def _copy_tree(target: Path) -> None:
    shutil.copytree(ROOT, target, ignore=_ignore, symlinks=True)


def _run(
    protection: Protection | None, scratch: Path, tests: tuple[str, ...]
) -> tuple[bool, float, str]:
    """Remove one guard (none: the control) in a fresh copy and run ``tests``.

    Returns whether pytest failed, how long it took and its last line.
    """
    copy = scratch / (protection.name.replace(" ", "_") if protection else "control")
    _copy_tree(copy)
    if protection is not None:
        source = copy / protection.path
        text = source.read_text()
        if text.count(protection.guard) != protection.occurrences:
            raise SystemExit(
                f"{protection.path}: guard of '{protection.name}' not found "
                f"{protection.occurrences} time(s)"
            )
        source.write_text(text.replace(protection.guard, protection.without))
    # the copy lives elsewhere: point the tests at this checkout's data mirror
    mirror = os.environ.get("MLPEG_TEST_MIRROR", str(ROOT.parent / "shared" / "data"))
    env = {**os.environ, "PYTHONPATH": str(copy), "MLPEG_TEST_MIRROR": mirror}
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    tail = (result.stdout.strip().splitlines() or [""])[-1]
    return result.returncode != 0, time.monotonic() - start, tail


def main() -> int:
    """Run every (or each named) removal and print which tests caught it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="names (substrings) to run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copies")
    args = parser.parse_args()
    chosen = [p for p in PROTECTIONS if not args.only or any(word in p.name for word in args.only)]
    scratch = Path(tempfile.mkdtemp(prefix="mlpeg-protections-"))
    table = Table(title="Each protection removed once", header_style="bold")
    for column in ("protection", "removed in", "caught", "s", "pytest says"):
        table.add_column(column)
    missed = []
    try:
        with console.status("") as status:
            # control: with every guard in place the same tests pass in a copy
            status.update("control: the tests on an unchanged copy")
            everything = tuple(dict.fromkeys(t for p in chosen for t in p.tests))
            failed, _, tail = _run(None, scratch, everything)
            if failed:
                console.print(f"[red]The unchanged copy fails its tests:[/] {tail}")
                return 2
            console.print(
                f"control: the unchanged copy passes {len(everything)} selections ({tail})"
            )
            for protection in chosen:
                status.update(f"removing: {protection.name}")
                caught, seconds, tail = _run(protection, scratch, protection.tests)
                if not caught:
                    missed.append(protection.name)
                table.add_row(
                    protection.name,
                    protection.path,
                    "[green]yes[/]" if caught else "[red]NO[/]",
                    f"{seconds:.0f}",
                    tail,
                )
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    console.print(table)
    console.print(f"{len(chosen) - len(missed)} of {len(chosen)} removals caught by a test.")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
