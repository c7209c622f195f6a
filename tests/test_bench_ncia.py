"""NCIAtlas benchmarks (NCIA_D1200, NCIA_D442x10, NCIA_R739x5, NCIA_SH250x10).

The loader reads the real mirror (the NCIAtlas tar); counts are those of the source tables;
the views are checked against energies written in the test.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MIRROR, TEST_MODELS
from helpers import prediction, predictions_part
from source_helpers import fake_source
from test_reactions_views import check_violations

from mlpeg import catalog
from mlpeg.calc.runner import write_references
from mlpeg.errors import DataError
from mlpeg.models import registry
from mlpeg.ncia import NOBLE_GASES, cut_dimer, load_ncia, read_table
from mlpeg.reactions import KCAL_PER_MOL, write_reactions
from mlpeg.warehouse.connect import writer
from mlpeg.warehouse.ingest import ingest

pytestmark = pytest.mark.skipif(not MIRROR.is_dir(), reason="no data mirror")

#: Rows of each source table, dimers with a noble gas, and complexes (distances per complex).
SOURCE = {
    "NCIA_D1200": (1200, 289, 1),
    "NCIA_D442x10": (4420, 1400, 10),
    "NCIA_R739x5": (3695, 900, 5),
    "NCIA_SH250x10": (2500, 0, 10),
}


@pytest.fixture(scope="module")
def loaded():
    """Each benchmark's loaded set (real files), loaded once."""
    return {key: catalog.get_benchmark(key).calc_module().load() for key in SOURCE}


@pytest.mark.slow
@pytest.mark.parametrize("key", SOURCE)
def test_loader_counts_equal_the_source_table(loaded, key):
    rows, noble, per_complex = SOURCE[key]
    ncia = loaded[key]
    assert len(ncia.data.reactions) + len(ncia.excluded) == rows
    assert len(ncia.excluded) == noble
    assert len(set(ncia.complexes.values())) * per_complex == rows - noble
    for reaction in ncia.data.reactions:  # dimer, then its two monomers
        (dimer, one), (_, minus_a), (_, minus_b) = reaction.species
        assert (one, minus_a, minus_b) == (1.0, -1.0, -1.0) and dimer == reaction.name
        atoms = ncia.data.structures
        assert len(atoms[dimer]) == len(atoms[reaction.species[1][0]]) + len(
            atoms[reaction.species[2][0]]
        )
    if noble:  # every excluded dimer holds a noble gas, and no kept one does
        structures = ncia.data.structures
        assert not any(NOBLE_GASES & set(structures[r.name].numbers) for r in ncia.data.reactions)


def test_quick_band_is_every_twentieth_complex_of_the_table(loaded):
    module = catalog.get_benchmark("NCIA_SH250x10").calc_module()
    quick = module.BENCHMARK.quick_reactions()
    assert len(quick) == 130  # complexes 1, 21, ..., 241: 13 × 10 distances
    assert [reaction.name for reaction in quick[:2]] == ["1.1.01_080", "1.1.01_085"]
    tasks = module.tasks()
    # one pair of monomers per rigid dissociation curve (2 × 13); 4 more where the file's
    # monomer differs by over 1e-5 Å between distances (4 of the 250 curves are not rigid)
    assert len(tasks) == 130 + 2 * 13 + 4
    assert len(module.tasks(full=True)) == len(loaded["NCIA_SH250x10"].data.structures)


def test_sh250x10_first_dimer_by_hand(loaded):
    """1.1.01_080: 17 atoms, monomers 1-12 and 13-17, table value 2.610 kcal/mol."""
    ncia = loaded["NCIA_SH250x10"]
    reaction = next(r for r in ncia.data.reactions if r.name == "1.1.01_080")
    assert reaction.reference_ev == pytest.approx(2.610 * KCAL_PER_MOL)
    assert reaction.subset == "Cl"
    a, b = (ncia.data.structures[name] for name, _ in reaction.species[1:])
    assert (len(a), len(b)) == (12, 5)
    assert a.info == {"charge": 0, "multiplicity": 1, "spin": 1}
    dimer = ncia.data.structures["1.1.01_080"]
    np.testing.assert_allclose(dimer.positions[0], [0.030, -0.062, -1.873])
    # along the curve the monomers are the same species: computed once for all 10 distances
    at_100 = next(r for r in ncia.data.reactions if r.name == "1.1.01_100")
    assert at_100.species[1:] == reaction.species[1:]


# ------------------------------------------------------------ views on hand-made predictions


@pytest.fixture(scope="module")
def hand_made(tmp_path_factory):
    """NCIA_D1200 references and stoichiometry, and hand-made energies for three dimers."""
    root = tmp_path_factory.mktemp("ncia")
    models = root / "models.yml"
    models.write_text(TEST_MODELS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(models))
        registry.clear_cache()
        bench = catalog.get_benchmark("NCIA_D1200")
        module = bench.calc_module()
        landing = root / "landing"
        write_references(module.references(), bench, landing=landing)
        write_reactions(module.reactions(), bench, landing=landing)
        data = module.load().data
        reactions = {r.name: r for r in data.reactions}

        def rows(label, energies, states=("ok", "ok", "ok")):
            names = [name for name, _ in reactions[label].species]
            return [
                prediction(n, "species", data.structures[n], e, state=s)
                for n, e, s in zip(names, energies, states, strict=True)
            ]

        predictions_part(
            landing,
            # E_int = −10 + 4.9 + 5.0 = −0.1 eV; −20 + 9.95 + 10 = −0.05 eV
            rows("1.01.01_100", (-10.0, -4.9, -5.0))
            + rows("1.02.01_100", (-20.0, -9.95, -10.0))
            # a failed monomer: the point is failed, outside the MAE
            + rows("1.02.02_100", (-8.0, None, -4.0), states=("ok", "failed", "ok")),
            model="model-a",
            benchmark="NCIA_D1200",
        )
        with writer(root / "wh" / "mlpeg.duckdb", publish=False) as con:
            assert not ingest(con, [landing]).rejected
            points = {
                r[0]: r[1:]
                for r in con.execute(
                    "select system, pred, ref, state from ncia_d1200.points"
                ).fetchall()
            }
            metrics = dict(
                con.execute("select metric_key, value from ncia_d1200.metrics").fetchall()
            )
            checks = check_violations(con, "NCIA_D1200")
        registry.clear_cache()
    return points, metrics, checks


def test_views_give_interaction_energies_and_mae_by_hand(hand_made):
    points, metrics, _ = hand_made
    assert set(points) == {"1.01.01_100", "1.02.01_100", "1.02.02_100"}
    # the table: 1.01.01_100 −0.090, 1.02.01_100 −0.370 kcal/mol
    assert points["1.01.01_100"][1] == pytest.approx(-0.090)
    assert points["1.02.01_100"][1] == pytest.approx(-0.370)
    assert points["1.01.01_100"][0] == pytest.approx(-0.1 / KCAL_PER_MOL)
    assert points["1.02.01_100"][0] == pytest.approx(-0.05 / KCAL_PER_MOL)
    assert points["1.02.02_100"][2] == "failed"
    errors = [abs(-0.1 / KCAL_PER_MOL + 0.090), abs(-0.05 / KCAL_PER_MOL + 0.370)]
    assert metrics["MAE"] == pytest.approx(sum(errors) / 2)


def test_benchmark_checks_hold_on_the_hand_made_points(hand_made):
    for expression, failing, duplicated in hand_made[2]:
        assert (failing, duplicated) == (0, 0), expression


# ------------------------------------------------------------------------------ bad input

DIMER = """5
charge=0 charge_a=0 charge_b=0 selection_a=1-3 selection_b=4-5 benchmark_Eint=-1.500 group=X
O 0.0 0.0 0.0
H 0.96 0.0 0.0
H -0.24 0.93 0.0
H 0.0 0.0 3.0
H 0.0 0.0 3.74
"""
TABLE = "# Benchmark\nsystem\tEint\n1.01_100\t-1.500\n"


def _source(tmp_path, monkeypatch, table=TABLE, geometries=None):
    geometries = {"1.01_100": DIMER} if geometries is None else geometries
    files = {"tables/NCIA_T/NCIA_T_benchmark.txt": table}
    files |= {f"geometries/NCIA_T/{label}.xyz": text for label, text in geometries.items()}
    return fake_source(tmp_path, monkeypatch, files, gz=True)


def test_a_small_source_loads(tmp_path, monkeypatch):
    ncia = load_ncia(_source(tmp_path, monkeypatch), "NCIA_T")
    (reaction,) = ncia.data.reactions
    assert reaction.reference_ev == pytest.approx(-1.5 * KCAL_PER_MOL)
    assert [len(ncia.data.structures[n]) for n, _ in reaction.species] == [5, 3, 2]


def test_reference_row_without_geometry(tmp_path, monkeypatch):
    table = TABLE + "1.02_100\t-2.0\n"
    with pytest.raises(DataError, match=r"1 reference rows have no geometry .*first: 1\.02_100"):
        load_ncia(_source(tmp_path, monkeypatch, table=table), "NCIA_T")


def test_geometry_without_reference_row(tmp_path, monkeypatch):
    geometries = {"1.01_100": DIMER, "1.03_100": DIMER}
    with pytest.raises(DataError, match=r"1 geometries have no reference row .*first: 1\.03_100"):
        load_ncia(_source(tmp_path, monkeypatch, geometries=geometries), "NCIA_T")


def test_comment_line_eint_must_equal_the_table(tmp_path, monkeypatch):
    table = TABLE.replace("-1.500", "-1.600")
    with pytest.raises(DataError, match=r"benchmark_Eint=-1\.500 differs"):
        load_ncia(_source(tmp_path, monkeypatch, table=table), "NCIA_T")


def test_corrupt_member_is_refused(tmp_path, monkeypatch):
    manifest = _source(tmp_path, monkeypatch)
    mirror_file = next((tmp_path / "mirror").rglob("1.01_100.xyz"))
    mirror_file.write_text(DIMER.replace("3.74", "3.75"))
    with pytest.raises(DataError, match=r"Checksum mismatch for .*NCIA_T/1\.01_100\.xyz"):
        load_ncia(manifest, "NCIA_T")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("selection_b=4-5", "selection_b=3-5"), "do not split its 5 atoms"),
        (("selection_b=4-5", "selection_b=4-6"), "outside atoms 1-5"),
        (("charge_b=0", "charge_b=1"), r"charges 0 \+ 1 ≠ total 0"),
        (("selection_a=1-3", "selection_a=1-x"), "cannot read atom selection"),
        (("H 0.0 0.0 3.0", "H 0.0 zero 3.0"), "cannot read atom line"),
        (("charge_a=0 ", ""), "has no charge_a"),
    ],
)
def test_dimers_that_cannot_be_cut(change, message):
    with pytest.raises(DataError, match=message):
        cut_dimer(DIMER.replace(*change), source="x.xyz")


def test_odd_electron_fragment_is_refused():
    text = DIMER.replace("H 0.0 0.0 3.74\n", "").replace("5\n", "4\n", 1)
    text = text.replace("selection_b=4-5", "selection_b=4")
    with pytest.raises(DataError, match="odd electron count"):
        cut_dimer(text, source="x.xyz")


def test_table_row_that_does_not_parse():
    with pytest.raises(DataError, match=r"t\.txt:3: expected '<label> <Eint>'"):
        read_table("# c\nsystem Eint\n1.01_100 minus-one\n", source="t.txt")
