"""Quick bands: fixed, documented subsets that mlpeg run computes by default; --full the rest."""

from __future__ import annotations

import pytest

from mlpeg import catalog
from mlpeg.calc.bands import select_tasks
from mlpeg.enums import Band


def test_every_slow_benchmark_declares_a_quick_band():
    benchmarks = catalog.benchmarks().values()
    assert all(b.quick and b.quick["description"] for b in benchmarks if b.cost != "quick")
    # calc.py defaults that are smaller than the definition are labelled quick as well
    for key in ("diatomics", "elemental_eos", "iron_properties", "extensivity", "li_diffusion"):
        assert catalog.get_benchmark(key).quick is not None, key


def test_reaction_band_takes_every_nth_reaction_and_its_species():
    bench = catalog.get_benchmark("S66")
    module = bench.calc_module()
    reactions = module.reactions()
    tasks, band = select_tasks(bench, module)
    assert band == Band.QUICK and bench.quick["every"] == 3
    chosen = reactions[::3]
    assert len(chosen) == 22  # reactions 1, 4, ..., 64 of 66
    assert {t.system for t in tasks} == {name for r in chosen for name, _ in r.species}
    assert len(tasks) == 66  # each S66 reaction: a dimer and its two monomers
    full, band = select_tasks(bench, module, full=True)
    assert band == Band.FULL and len(full) == 198
    first, band = select_tasks(bench, module, subset=2)
    assert band == Band.SUBSET
    assert {t.system for t in first} == {n for r in reactions[:2] for n, _ in r.species}


def test_quick_benchmark_without_band_runs_in_full():
    bench = catalog.get_benchmark("X23")
    tasks, band = select_tasks(bench, bench.calc_module())
    assert band == Band.FULL and len(tasks) == 46


def test_neb_quick_band_is_single_points_on_fixed_images():
    bench = catalog.get_benchmark("li_diffusion")
    quick, band = select_tasks(bench, bench.calc_module())
    assert band == Band.QUICK
    assert {(t.kind.n_images, t.kind.max_steps, t.kind.relax_endpoints) for t in quick} == {
        (5, 0, False)
    }
    full, _ = select_tasks(bench, bench.calc_module(), full=True)
    assert {(t.kind.n_images, t.kind.fmax, t.kind.relax_endpoints) for t in full} == {
        (7, 0.05, True)
    }


@pytest.mark.parametrize(
    "key", ["GMTKN55", "GSCDB138_NCIs", "NCIA_HB375x10", "OpenFF_Tors", "RDB7", "Folmsbee"]
)
def test_large_sets_quick_band_stays_small(key):
    bench = catalog.get_benchmark(key)
    tasks, _ = select_tasks(bench, bench.calc_module())
    assert 30 <= len({t.system for t in tasks}) <= 120  # species per model in mlpeg run
