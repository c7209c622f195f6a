"""What models accept: charged, open-shell, field and periodic structures become unsupported."""

from __future__ import annotations

import pytest
from ase import Atoms
from ase.build import bulk, molecule

from mlpeg.calc.execute import Evaluator, RunContext
from mlpeg.calc.tasks import Task
from mlpeg.errors import ConfigError
from mlpeg.models import registry
from mlpeg.models.capabilities import Accepts, external_field

CONTEXT = RunContext(run_id="r", model_key="m", benchmark_key="b")


def water(**info) -> Atoms:
    atoms = molecule("H2O")
    atoms.info.update(info)
    return atoms


def spec(**accepts) -> registry.ModelSpec:
    """A mock model (zeros) that accepts only what it is told."""
    return registry.ModelSpec(
        name="m", family="mock", checkpoint="zeros", elements=tuple(range(1, 119)),
        accepts=Accepts(**accepts),
    )  # fmt: skip


def row(model: registry.ModelSpec, atoms: Atoms) -> dict:
    return Evaluator(model, with_d3=False, device="cpu").one(Task("s", "molecule", atoms), CONTEXT)


@pytest.mark.parametrize(
    ("atoms", "accepts", "reason"),
    [
        (water(charge=1, spin=2), {}, "charge +1 not supported by m"),
        (water(charge=-1, spin=2), {"spin": True}, "charge -1 not supported by m"),
        (water(charge=0, spin=3), {"charge": True}, "spin multiplicity 3 not supported by m"),
        (water(external_field=[0.0, 0.0, 0.1]), {"charge": True, "spin": True},
         "external electric field not supported by m"),
        # a declared zero field is a field calculation too (a reference of a field benchmark)
        (water(external_field=[0, 0, 0]), {}, "external electric field not supported by m"),
        (bulk("Cu"), {"periodic": False}, "periodic cells not supported by m"),
        (water(), {"molecules": False}, "non-periodic structures not supported by m"),
    ],
)  # fmt: skip
def test_what_a_model_does_not_accept_is_unsupported_with_the_reason(atoms, accepts, reason):
    result = row(spec(**accepts), atoms)
    assert result["state"] == "unsupported"
    assert result["error"].startswith(reason)
    assert result["energy"] is None


@pytest.mark.parametrize(
    "atoms",
    [water(), water(charge=0, spin=1), bulk("Cu")],
)
def test_neutral_closed_shell_field_free_structures_run(atoms):
    result = row(spec(), atoms)
    assert result["state"] == "ok" and result["energy"] == 0.0


def test_a_model_that_accepts_charge_spin_and_field_runs_them():
    atoms = water(charge=1, spin=2, external_field=[0.1, 0, 0])
    assert row(spec(charge=True, spin=True, field=True), atoms)["state"] == "ok"


def test_elements_are_checked_before_charge():
    model = registry.ModelSpec(name="m", family="mock", checkpoint="z", elements=(1,))
    result = row(model, water(charge=1, spin=2))
    assert result["state"] == "unsupported"
    assert result["error"] == "elements not supported by m: O"


def test_malformed_charge_or_field_fails_the_structure_with_its_message():
    assert (
        row(spec(), water(charge=0.5))["error"]
        == "atoms.info['charge'] = 0.5 is not a whole number."
    )
    assert "is not a 3-vector" in row(spec(), water(external_field=[1, 2]))["error"]
    assert row(spec(), water(charge="x"))["state"] == "failed"


def test_external_field_reads_three_numbers():
    assert external_field(water()) is None
    assert external_field(water(external_field=[0, 0, 0])) is None
    assert list(external_field(water(external_field=(0, 0, 0.25)))) == [0, 0, 0.25]


def test_shipped_models_declare_what_they_accept():
    models = registry.all_models()
    for name in ("chgnet-0.3.0", "sevennet-0", "tensornet-matpes-pbe", "mace-mp-0a"):
        assert models[name].accepts == Accepts(), name  # neutral, closed shell, no field
    for name in ("mace-omol", "mace-mh-1-omol", "orb-v3-consv-omol", "uma-s-1p1-omol"):
        accepts = models[name].accepts
        assert accepts.charge and accepts.spin and not accepts.field, name
    xtb = models["gfn2-xtb"]
    assert xtb.is_baseline and xtb.accepts.charge and xtb.accepts.spin
    assert not xtb.accepts.periodic  # tblite is Γ-point only: not for few-atom cells
    assert not xtb.accepts.field  # tblite 0.8.0 cannot pass a field from Python
    assert {spec.kind for spec in models.values()} == {"mlip", "baseline"}
    assert [s.name for s in models.values() if s.is_baseline] == ["gfn2-xtb", "gfn1-xtb"]


@pytest.fixture
def models_yml(tmp_path, monkeypatch):
    def write(text: str):
        path = tmp_path / "models.yml"
        path.write_text(text)
        monkeypatch.setenv("MLPEG_MODELS", str(path))
        registry.clear_cache()
        return path

    yield write
    registry.clear_cache()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("m: {family: mock, checkpoint: z, accepts: {charge: 1}}", "is not of type 'boolean'"),
        ("m: {family: mock, checkpoint: z, accepts: {magnetism: true}}", "Additional properties"),
        ("m: {family: mock, checkpoint: z, kind: potential}", "'potential' is not one of"),
        ("m: {family: xtb, checkpoint: GFN9-xTB}", "tblite has no method 'GFN9-xTB'"),
        ("m: {family: matgl, checkpoint: TensorNet-OMG}", "matgl.sha256 pins no folder"),
        ("m: {family: matgl, checkpoint: /m, options: {aggregation: x}}", "aggregation must"),
        ("m: {family: fairchem, checkpoint: uma-s-1p1}", "options.task_name must be one of"),
        ("m: {family: mattersim, checkpoint: MatterSim-v9.pth}", "mattersim has no pretrained"),
    ],
)  # fmt: skip
def test_models_yml_schema_rejects_bad_kinds_and_accepts(models_yml, entry, message):
    path = models_yml(entry)
    with pytest.raises(ConfigError) as info:
        registry.all_models()
    assert message in str(info.value) and str(path) in str(info.value)


def test_accepts_overrides_the_family_default(models_yml):
    models_yml("m: {family: xtb, checkpoint: GFN2-xTB, accepts: {periodic: false}}\n")
    accepts = registry.get_model("m").accepts
    assert accepts == Accepts(charge=True, spin=True, field=False, periodic=False)


def test_all_offline_selects_every_model_that_runs_here_once():
    selected = registry.select_models(["sevennet-0", "all-offline", "default"])
    names = [spec.name for spec in selected]
    assert len(names) == len(set(names))
    assert names[0] == "sevennet-0"
    assert set(names) == {s.name for s in registry.all_models().values()
                          if not s.test_only and registry.availability(s)[0]}  # fmt: skip
    assert "mock" not in names and "mace-mp-0a" not in names  # test-only; weights not here
    assert [s.name for s in registry.select_models(None)] == ["chgnet-0.3.0", "sevennet-0"]


def test_warehouse_models_table_stores_kind_and_accepts(tmp_path):
    from mlpeg.warehouse.connect import writer

    with writer(tmp_path / "w.duckdb") as con:
        rows = dict(con.execute("select model_key, kind from models").fetchall())
        accepts = con.execute(
            "select accepts->>'charge', accepts->>'periodic' from models where model_key = ?",
            ["gfn2-xtb"],
        ).fetchone()
    assert rows["gfn2-xtb"] == rows["gfn1-xtb"] == "baseline"
    assert rows["chgnet-0.3.0"] == "mlip"
    assert accepts == ("true", "false")  # charged molecules, no crystals


def test_an_implicit_state_is_computed_as_it_is_by_a_model_without_spin():
    from ase.build import molecule

    from mlpeg.models.capabilities import IMPLICIT_STATE_KEY, unsupported_reason

    iron = molecule("H2O")
    iron.info.update(charge=0, spin=5)
    assert "spin multiplicity 5" in unsupported_reason(Accepts(), iron, "m")
    iron.info[IMPLICIT_STATE_KEY] = True
    assert unsupported_reason(Accepts(), iron, "m") is None
    iron.info["charge"] = 2  # still a box as it is, charge unread
    assert unsupported_reason(Accepts(), iron, "m") is None
    iron.pbc = True  # the state is implicit, the other capabilities are not
    assert "periodic" in unsupported_reason(Accepts(periodic=False), iron, "m")
