"""elemental_tm_vacancies: the Angsten tables read from the mirror, cells at the PBE volume,
E_vac from a real (EMT) run against the same number computed directly with ASE, the views
on hand-made rows (a failed relaxation stays failed), and bad tables."""

from __future__ import annotations

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.optimize import BFGS
from bench_helpers import ingest_rows, query, run_with_emt
from helpers import prediction

from mlpeg import catalog
from mlpeg.calc.tasks import Task
from mlpeg.defects import VacancyAtVolume
from mlpeg.errors import DataError

KEY = "elemental_tm_vacancies"


@pytest.fixture
def module():
    return catalog.get_benchmark(KEY).calc_module()


def test_tables_read_from_the_mirror(module):
    entries = module.entries(full=True)
    assert len(entries) == 53  # 24 fcc + 29 hcp transition metals
    assert sum(e.structure == "fcc" for e in entries) == 24
    by_system = {e.system: e for e in entries}
    # Table A1: "Cu,3.49,...,11.97,1.07,..."; Co_mag replaces Co (10.90 Å³, 1.79 eV)
    assert (by_system["Cu_fcc"].volume_per_atom, by_system["Cu_fcc"].e_vac) == (11.97, 1.07)
    assert by_system["Co_fcc"].magnetic and by_system["Co_fcc"].e_vac == 1.79
    assert by_system["Zn_hcp"].e_vac == 0.47 and "Al_fcc" not in by_system
    assert sorted(t.system for t in module.tasks()) == sorted(module.QUICK)


def test_cells_sit_at_the_table_volume(module):
    for task in module.tasks(full=True):
        entry = next(e for e in module.entries() if e.system == task.system)
        assert task.atoms.get_volume() / len(task.atoms) == pytest.approx(entry.volume_per_atom)
        assert task.kind.relax_shape == (entry.structure == "hcp")


@pytest.mark.slow
def test_emt_run_equals_ase_by_hand(module, tmp_path):
    tasks = [t for t in module.tasks() if t.system in ("Cu_fcc", "Pt_fcc")]
    summary, warehouse = run_with_emt(KEY, tasks, tmp_path)
    assert (summary.n_ok, summary.n_failed) == (2, 0)
    points = {
        s: (pred, ref)
        for s, pred, ref in query(warehouse, f"select system, pred, ref from {KEY}.points")
    }
    a = (4 * 11.97) ** (1 / 3)  # Cu at the PBE volume, 2×2×2 cubic cell
    perfect = bulk("Cu", "fcc", a=a, cubic=True).repeat(2)
    perfect.calc = EMT()
    defect = perfect.copy()
    del defect[0]
    defect.calc = EMT()
    BFGS(defect, logfile=None).run(fmax=0.005)
    e_vac = defect.get_potential_energy() - 31 / 32 * perfect.get_potential_energy()
    assert points["Cu_fcc"] == (pytest.approx(e_vac, abs=2e-3), 1.07)
    assert 0.5 < points["Pt_fcc"][0] < 2.0  # EMT's Pt vacancy: order of an eV
    (mae,) = query(warehouse, f"select value from {KEY}.metrics where metric_key = 'MAE'")[0]
    assert mae == pytest.approx(
        (abs(points["Cu_fcc"][0] - 1.07) + abs(points["Pt_fcc"][0] - 0.61)) / 2
    )


def test_hcp_shape_relaxes_at_constant_volume():
    atoms = bulk("Cu", "hcp", a=2.55, c=2.55 * (8 / 3) ** 0.5)
    atoms.calc = EMT()
    result = VacancyAtVolume(supercell=(2, 2, 2), relax_shape=True).run(atoms)
    assert result.properties["volume_per_atom"] == pytest.approx(atoms.get_volume() / 2)
    assert result.properties["n_atoms_perfect"] == 16 and len(result.frames) == 2
    assert result.properties["c_over_a"] != pytest.approx((8 / 3) ** 0.5, abs=1e-3)  # it moved


def test_views_on_hand_made_rows(module, tmp_path, test_models):
    atoms = module.crystal(module.entries()[0])
    energies = {"Cu_fcc": (-100.0, -95.8), "Ag_fcc": (-80.0, -76.9)}  # (perfect, defect), N=32
    rows = [
        prediction(
            system,
            "vacancy",
            atoms,
            defect,
            properties={"energy_perfect": perfect, "energy_defect": defect, "n_atoms_perfect": 32},
        )
        for system, (perfect, defect) in energies.items()
    ]
    rows.append(
        prediction("Pt_fcc", "vacancy", atoms, None, state="failed", error="NotConverged: ...")
    )
    warehouse = ingest_rows(KEY, rows, tmp_path)
    points = {
        s: (pred, state)
        for s, pred, state in query(warehouse, f"select system, pred, state from {KEY}.points")
    }
    # Cu: −95.8 + 31/32·100 = 1.075; Ag: −76.9 + 31/32·80 = 0.6
    assert points["Cu_fcc"] == (pytest.approx(1.075), "ok")
    assert points["Ag_fcc"] == (pytest.approx(0.6), "ok")
    assert points["Pt_fcc"][1] == "failed"
    (mae,) = query(warehouse, f"select value from {KEY}.metrics")[0]
    assert mae == pytest.approx((0.005 + 0.08) / 2)  # Ag ref 0.68; the failure is not averaged


def test_bad_table_is_one_clear_error(module, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("symbol,volume_per_atom,e_vacform\nCu,11.97,1.07\nAg,x,0.68\n")
    with pytest.raises(DataError, match=r"bad.csv:3"):
        module.read_table(bad, "fcc")
    bad.write_text("symbol,volume\nCu,11.97\n")
    with pytest.raises(DataError, match="missing column"):
        module.read_table(bad, "fcc")


def test_unconverged_vacancy_raises():
    atoms = bulk("Cu", "fcc", a=3.7, cubic=True)
    atoms.calc = EMT()
    with pytest.raises(RuntimeError, match="did not reach"):
        VacancyAtVolume(supercell=(2, 2, 2), max_steps=1, fmax=1e-6).run(atoms)
    assert isinstance(Task("x", "vacancy", atoms, VacancyAtVolume()).kind, VacancyAtVolume)
