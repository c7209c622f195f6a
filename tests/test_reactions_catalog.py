"""Reaction benchmarks in the catalogue: structure counts, cost classes, manifests, listing."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mlpeg import catalog
from mlpeg.cli import _select_benchmarks, app
from mlpeg.data import read_manifest
from mlpeg.enums import CostClass
from mlpeg.reactions import cost_class

#: Benchmarks small enough to load in full here (about 700 small files in all).
SMALL = ["X23", "S22", "DMC_ICE13", "S66", "S30L", "CYCLO70"]
#: refdata benchmarks whose species are all distinct structures: count = xyz files listed.
NO_REPEATS = ["NCIA_HB300SPXx10", "NCIA_HB375x10", "NCIA_IHB100x10"]
ORDER = [CostClass.QUICK, CostClass.SLOW, CostClass.VERY_SLOW]
REACTION_BENCHMARKS = [
    "S22", "S66", "S30L", "DMC_ICE13", "CYCLO70", "BH9", "GMTKN55", "NCIA_HB300SPXx10",
    "NCIA_HB375x10", "NCIA_IHB100x10", "GSCDB138_NCIs", "GSCDB138_isomers",
    "GSCDB138_barriers", "GSCDB138_thermochemistry", "GSCDB138_tm_complexes",
]  # fmt: skip


@pytest.mark.parametrize("key", SMALL)
def test_recorded_structure_count_and_cost_class(key):
    bench = catalog.get_benchmark(key)
    tasks = bench.calc_module().tasks()
    assert bench.structures == len(tasks) == len({(t.system, t.role) for t in tasks})
    assert bench.cost == cost_class(len(tasks), sum(len(t.atoms) for t in tasks))


@pytest.mark.parametrize("key", REACTION_BENCHMARKS)
def test_large_benchmarks_record_counts_their_manifests_bound(key):
    """Without loading thousands of files: merging repeats only lowers the count below the
    number of structure files pinned, and every structure has at least one atom."""
    bench = catalog.get_benchmark(key)
    manifest = bench.folder / "data.sha256"
    files = read_manifest(manifest) if manifest.is_file() else {}
    n_files = sum(1 for path in files if path.endswith((".xyz", ".vasp", ".in")))
    if key == "S22":
        assert not files  # ships with ASE
    else:
        assert bench.structures <= n_files
    if key in NO_REPEATS:
        assert bench.structures == n_files
    # each structure has at least one atom, so this class is a lower bound on the true one
    assert ORDER.index(cost_class(bench.structures, bench.structures)) <= ORDER.index(bench.cost)
    assert {m.quantity for m in bench.metrics} <= {
        "interaction_energy", "binding_energy", "association_energy", "barrier_height",
        "reaction_energy", "lattice_energy", "relative_lattice_energy",
    }  # fmt: skip


def test_cost_class_rule():
    assert cost_class(66, 828) == CostClass.QUICK
    assert cost_class(198, 2_628) == CostClass.SLOW  # more than 100 structures
    assert cost_class(77, 6_745) == CostClass.SLOW
    assert cost_class(2_396, 31_991) == CostClass.VERY_SLOW


def test_default_run_is_the_main_job_and_covers_every_category():
    every = catalog.benchmarks()
    keys = {b.key for b in _select_benchmarks(None, None)}
    assert keys == {key for key, b in every.items() if b.in_main_job}
    assert all(b.cost == "quick" or b.main_job for key, b in every.items() if key in keys)
    # a slow benchmark whose quick band is cheap joins it; an expensive one does not
    assert {"X23", "S22", "GMTKN55", "S30L"} <= keys
    assert not {"NCIA_D1200", "LNCI16", "phonons", "elemental_tm_vacancies"} & keys
    assert {b.category for b in every.values()} == {every[key].category for key in keys}
    chosen = {b.key for b in _select_benchmarks(None, ["non_covalent_interactions"])}
    assert {"S22", "S66", "GSCDB138_NCIs", "NCIA_HB300SPXx10", "NCIA_D1200"} <= chosen


def test_mlpeg_benchmarks_lists_structure_counts():
    result = CliRunner().invoke(app, ["benchmarks"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[2].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "2,396" in rows["GMTKN55"] and "very_slow" in rows["GMTKN55"]
    assert "66" in rows["S22"] and "quick" in rows["S22"]
    assert "5,588" in rows["GSCDB138_NCIs"]
