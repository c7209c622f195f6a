"""refdata's .din and .xyz readers on real files, values checked by eye against the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MIRROR

from mlpeg.errors import DataError
from mlpeg.reactions import combine_species
from mlpeg.refdata import parse_din, parse_xyz, read_din, read_xyz

REFDATA = MIRROR / "aoterodelaroza" / "refdata" / "f96148aa1739077c55b394b4c9d7e4f42f65dce0"

pytestmark = pytest.mark.skipif(not REFDATA.is_dir(), reason="refdata mirror not present")


def test_s22_din_names_reactions_by_its_first_species():
    reactions = read_din(REFDATA / "10_din" / "s22.din")  # `#@ fieldasrxn 1`
    assert len(reactions) == 22
    first, second = reactions[0], reactions[1]
    assert first.name == "nh3_nh3" and first.index == 1
    assert first.species == ((1.0, "nh3_nh3"), (-1.0, "nh3_nh3_1"), (-1.0, "nh3_nh3_2"))
    assert first.reference_kcal_per_mol == -3.133
    assert second.name == "h2o_h2o" and second.reference_kcal_per_mol == -4.989


def test_gscdb138_din_takes_the_name_on_the_value_line():
    reactions = read_din(REFDATA / "10_din-GSCDB138" / "A24.din")
    assert len(reactions) == 24
    assert reactions[0].name == "A24_239"
    assert reactions[0].reference_kcal_per_mol == pytest.approx(-6.5549996917)
    assert reactions[0].species[0] == (1.0, "3957_01waterammonia_dim_A24")


def test_gmtkn55_din_names_by_last_species_or_by_position():
    aconf = read_din(REFDATA / "10_din-GMTKN55" / "aconf.din")  # `#@ fieldasrxn -1`
    assert len(aconf) == 15
    assert aconf[0].name == "aconf_B_G" and aconf[0].reference_kcal_per_mol == 0.598
    assert aconf[0].species == ((-1.0, "aconf_B_T"), (1.0, "aconf_B_G"))
    bh76 = read_din(REFDATA / "10_din-GMTKN55" / "bh76.din")  # `#@ fieldasrxn 0`
    assert len(bh76) == 68  # refdata lists 68 of GMTKN55's 76 barriers
    assert bh76[0].name == "1" and bh76[0].reference_kcal_per_mol == 17.7
    assert [name for _, name in bh76[0].species] == ["bh76_h", "bh76_n2o", "bh76_n2ohts"]


def test_repeated_species_in_a_reaction_are_summed():
    first = read_din(REFDATA / "10_din-GSCDB138" / "RG10N.din")[0]
    assert first.name == "RG10N_5935"
    assert first.species == ((1.0, "RG10N_HeHe_1p588"), (-1.0, "RG10N_He"), (-1.0, "RG10N_He"))
    assert combine_species([(n, c) for c, n in first.species]) == (
        ("RG10N_HeHe_1p588", 1.0),
        ("RG10N_He", -2.0),
    )


def test_refdata_ice_din_repeats_ice_xi_and_misses_ice_ix():
    """Why DMC_ICE13 takes its references from the Paderborn copy instead."""
    reactions = read_din(REFDATA / "10_din" / "ice.din")
    solids = [name for r in reactions for _, name in r.species if name.startswith("ice_")]
    assert len(reactions) == 13 and solids.count("ice_XI") == 2 and "ice_IX" not in solids


def test_din_text_features_and_errors():
    text = "# header\n#@ fieldasrxn -1\nKCAL\n\n-1\nA\n2\nB\n0\n1.5\n0.5\nC\n0\n-2\n-111\n1\nX\n"
    reactions = parse_din(text)
    assert [(r.name, r.species, r.reference_kcal_per_mol) for r in reactions] == [
        ("B", ((-1.0, "A"), (2.0, "B")), 1.5),
        ("C", ((0.5, "C"),), -2.0),
    ]
    with pytest.raises(DataError, match="ends inside a reaction"):
        parse_din("1\nA\n-1\nB\n")
    with pytest.raises(DataError, match=r"f.din:3: expected a number, got 'x'"):
        parse_din("1\nA\nx\nB\n0\n1.0\n", source="f.din")


@pytest.mark.parametrize(
    ("relpath", "n_atoms", "charge", "multiplicity"),
    [
        ("20_s22/nh3_nh3.xyz", 8, 0, 1),  # "0 1"
        ("30_collection-GSCDB138/P34/P34_A01_H.xyz", 1, 0, 2),  # "0 2": hydrogen atom
        ("30_collection-GSCDB138/P34/P34_P46C_Ge.xyz", 1, 1, 2),  # "1 2": Ge cation
        ("20_cyclo70/TS_33.xyz", 47, 0, 1),  # autodE: "charge = 0 mult = 1 E = ..."
        ("20_hb375x10/1.001_aceticacid--acetaldehyde_080.xyz", 15, 0, 1),  # no multiplicity
        ("20_hb375x10/1.001_aceticacid--acetaldehyde_1.xyz", 8, 0, 1),  # blank comment line
    ],
)
def test_xyz_charge_and_multiplicity(relpath, n_atoms, charge, multiplicity):
    atoms = read_xyz(REFDATA / relpath)
    assert len(atoms) == n_atoms and not atoms.pbc.any()
    assert atoms.info["charge"] == charge
    assert atoms.info["multiplicity"] == multiplicity == atoms.info["spin"]


def test_xyz_positions_and_inferred_multiplicity():
    atoms = read_xyz(REFDATA / "20_s22" / "nh3_nh3.xyz")
    assert atoms.get_chemical_symbols()[0] == "N"
    assert atoms.positions[0] == pytest.approx([-1.578718, -0.046611, 0.0])
    radical = parse_xyz("2\n\nO 0 0 0\nH 0 0 0.97\n")  # OH: 9 electrons, nothing said
    assert radical.info["charge"] == 0 and radical.info["multiplicity"] == 2
    anion = parse_xyz("2\ncharge=-1\nO 0 0 0\nH 0 0 0.97\n")  # OH⁻: 10 electrons
    assert anion.info["multiplicity"] == 1
    with pytest.raises(DataError, match=r"x.xyz:3: cannot read atom line"):
        parse_xyz("1\n0 1\nQq 0 0 0\n", source="x.xyz")


def test_missing_din_file_is_one_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="Cannot read"):
        read_din(tmp_path / "nope.din")


def test_ihb100x10_din_coefficients_have_the_opposite_sign_to_its_values():
    """refdata writes −E(dimer) + E(monomers) beside negative (bound) interaction energies;
    the NCIA_IHB100x10 benchmark negates its coefficients (RefdataSubset(negate=True))."""
    reactions = {r.name: r for r in read_din(REFDATA / "10_din" / "ihb100x10.din")}
    equilibrium = reactions["01.001_oxonium--methylcyanate_100"]
    assert equilibrium.species[0] == (-1.0, "01.001_oxonium--methylcyanate_100")
    assert equilibrium.reference_kcal_per_mol == -22.418


def test_load_refdata_on_a_small_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from mlpeg.data import sha256_of
    from mlpeg.reactions import KCAL_PER_MOL, RefdataSubset, charge_subset, load_refdata

    root = tmp_path / "mirror"
    repo = root / "o" / "refdata" / "c0"
    files = {
        "10_din/x.din": "#@ fieldasrxn 1\n-1\nAB\n1\nA\n1\nB_file\n0\n-5.0\n-1\nA\n1\nA2\n0\n0.0\n",
        "20_x/AB.xyz": "2\n0 1\nH 0 0 0\nH 0 0 0.74\n",
        "20_x/A.xyz": "1\n0 2\nH 0 0 0\n",
        "20_x/A2.xyz": "1\n0 2\nH 0 0 0\n",  # the same structure as A
        "20_x/B_file.xyz": "1\n1 1\nH 5 0 0\n",  # a cation
    }
    for relpath, text in files.items():
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_text(text)
    manifest = tmp_path / "data.sha256"
    manifest.write_text("".join(f"{sha256_of(repo / p)}  o/refdata/c0/{p}\n" for p in files))
    monkeypatch.setenv("MLPEG_DATA_MIRROR", str(root))
    subset = RefdataSubset("10_din/x.din", ("20_x",), charge_subset, prefix=True, negate=True)
    data = load_refdata(manifest, [subset], quantity="q", level_of_theory="t", source="s")
    first, second = data.reactions
    assert first.name == "charged/AB" and first.subset == "charged"
    assert first.species == (("AB", 1.0), ("A", -1.0), ("B_file", -1.0))  # negated
    assert first.reference_ev == pytest.approx(-5.0 * KCAL_PER_MOL)
    assert second.name == "neutral/A" and second.species == (("A", 0.0),)  # A2 is A
    assert [t.system for t in data.tasks()] == ["AB", "A", "B_file"]
    assert data.structures["B_file"].info["charge"] == 1
    missing = RefdataSubset("10_din/x.din", ("20_y",))
    with pytest.raises(DataError, match="no xyz file for species 'AB'"):
        load_refdata(manifest, [missing], quantity="q", level_of_theory="t", source="s")
