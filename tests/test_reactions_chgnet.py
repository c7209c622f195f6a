"""S22 with CHGNet+D3 end to end: runner → ingest → points → metric scores → leaderboard."""

from __future__ import annotations

import pytest
from ase.units import kcal, mol

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks, write_references
from mlpeg.models import registry
from mlpeg.reactions import write_reactions
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest


@pytest.mark.slow
def test_chgnet_s22_two_dimers_end_to_end(tmp_path):
    """The first two S22 dimers through the runner, ingest and views, as `mlpeg run` does;
    one interaction energy is recomputed here with CHGNet and dftd3 directly."""
    pytest.importorskip("chgnet")
    bench = catalog.get_benchmark("S22")
    module = bench.calc_module()
    keep = {name for r in module.reactions()[:2] for name, _ in r.species}
    tasks = [t for t in module.tasks() if t.system in keep]
    landing = tmp_path / "landing"
    write_references(module.references(), bench, landing=landing)
    write_reactions(module.reactions(), bench, landing=landing)
    summary = run_tasks(tasks, registry.get_model("chgnet-0.3.0"), bench, landing=landing)
    assert (summary.n_ok, summary.n_failed) == (6, 0), summary
    with writer(tmp_path / "wh" / "mlpeg.duckdb", publish=False) as con:
        assert not ingest(con, [landing]).rejected
        points = con.sql("select system, pred, ref, state from s22.points order by 1").fetchall()
        scores = con.sql(
            "select metric_key, value, score, state from metric_scores "
            "where benchmark_key = 'S22' order by metric_key"
        ).fetchall()
        n_predictions = con.sql("select count(*) from predictions").fetchall()[0][0]
        board = con.sql("select model_key, non_covalent_interactions from leaderboard").fetchall()
    # six structures (two dimers and their monomers), each computed once
    assert n_predictions == 6
    assert [p[0] for p in points] == ["Ammonia_dimer", "Water_dimer"]
    assert all(p[3] == "ok" for p in points)
    by_metric = {row[0]: row[1:] for row in scores}
    mae = sum(abs(p[1] - p[2]) for p in points) / 2
    assert by_metric["MAE"][0] == pytest.approx(mae)
    assert by_metric["MAE"][1] == pytest.approx(min(1.0, max(0.0, (mae - 20) / (0.5 - 20))))
    assert by_metric["dispersion MAE"][0] is None  # no dispersion-bound dimer was run
    assert [row[0] for row in board] == ["chgnet-0.3.0"]  # D3 added, still the model's row
    assert board[0][1] == pytest.approx(by_metric["MAE"][1])  # the category holds S22 only

    from ase.calculators.mixing import SumCalculator
    from chgnet.model import CHGNet, CHGNetCalculator
    from dftd3.ase import DFTD3

    model = CHGNet.load(model_name="0.3.0", use_device="cpu", verbose=False)
    calc = SumCalculator(
        [CHGNetCalculator(model=model, use_device="cpu"), DFTD3(method="PBE", damping="d3bj")]
    )
    structures = {
        t.system: t.atoms.copy() for t in catalog.get_benchmark("S22").calc_module().tasks()
    }
    energies = {}
    for part in ("dimer", "monomer_a", "monomer_b"):
        atoms = structures[f"Water_dimer/{part}"]
        atoms.calc = calc
        energies[part] = atoms.get_potential_energy()
    direct = (energies["dimer"] - energies["monomer_a"] - energies["monomer_b"]) / (kcal / mol)
    # dftd3's default cutoffs differ slightly from the registry's torch-dftd
    assert dict((p[0], p[1]) for p in points)["Water_dimer"] == pytest.approx(direct, abs=0.05)
