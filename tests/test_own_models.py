"""Bring your own model: family python, user registries, mlpeg models add, entry points.

The end-to-end run of an EMT factory through the real ``mlpeg`` command is in
tests/test_bundles.py, whose warehouse it shares with the bundle round trip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from ase.build import molecule
from ase.calculators.emt import EMT
from typer.testing import CliRunner

from mlpeg.cli import app, hoist_models_files
from mlpeg.errors import ConfigError
from mlpeg.models import registry
from mlpeg.models.python import probe_structure
from mlpeg.paths import REPO_ROOT

EMT_ELEMENTS = "[H, C, N, O, Al, Ni, Cu, Pd, Ag, Pt, Au]"

#: A package of bad factories, put on sys.path by the ``bad_factories`` fixture.
BAD_FACTORIES = """
import numpy as np
from ase.calculators.calculator import Calculator, all_changes

raise_on_import = False


class Raises(Calculator):
    implemented_properties = ("energy", "forces")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        raise RuntimeError("no parameters for this structure")


class ReturnsNaN(Calculator):
    implemented_properties = ("energy", "forces")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": float("nan"), "forces": np.zeros((len(self.atoms), 3))}


class EnergyOnly(Calculator):
    implemented_properties = ("energy",)


class ChargeAware(Calculator):
    # EMT plus q^2 eV: reads atoms.info['charge'] (and not the spin)

    implemented_properties = ("energy", "forces")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        from ase.calculators.emt import EMT

        super().calculate(atoms, properties, system_changes)
        emt = EMT()
        emt.calculate(self.atoms, properties, all_changes)
        charge = self.atoms.info.get("charge", 0)
        energy = emt.results["energy"] + charge**2
        self.results = {"energy": energy, "forces": emt.results["forces"]}


def not_a_calculator():
    return {"energy": 0.0}
"""


@pytest.fixture
def user_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ~/.config for the user registry, and no MLPEG_MODELS_FILES."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("MLPEG_MODELS_FILES", raising=False)
    monkeypatch.delenv("MLPEG_MODELS", raising=False)
    registry.clear_cache()
    return tmp_path / "config"


@pytest.fixture
def bad_factories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A module ``badfactories`` importable from a temporary folder; returns its name."""
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "badfactories.py").write_text(BAD_FACTORIES)
    monkeypatch.syspath_prepend(str(folder))
    return "badfactories"


def _user_file(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "mine.yml"
    path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("MLPEG_MODELS_FILES", str(path))
    registry.clear_cache()
    return path


def test_a_user_registry_adds_to_the_shipped_one(user_home, tmp_path, monkeypatch):
    _user_file(
        tmp_path,
        f"my-emt: {{family: python, factory: 'ase.calculators.emt:EMT', elements: {EMT_ELEMENTS}}}",
        monkeypatch,
    )
    models = registry.all_models()
    assert "chgnet-0.3.0" in models  # the shipped registry is still there
    spec = models["my-emt"]
    assert (spec.family, spec.factory, spec.checkpoint) == (
        "python",
        "ase.calculators.emt:EMT",
        "ase.calculators.emt:EMT",  # the factory stands for the checkpoint in provenance
    )
    assert registry.element_symbols(spec) == [
        "H", "C", "N", "O", "Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au"
    ]  # fmt: skip


def test_a_user_registry_that_shadows_a_shipped_name_is_one_error_naming_both(
    user_home, tmp_path, monkeypatch
):
    mine = _user_file(
        tmp_path, "chgnet-0.3.0: {family: python, factory: 'ase.calculators.emt:EMT'}", monkeypatch
    )
    with pytest.raises(ConfigError) as error:
        registry.all_models()
    shipped = REPO_ROOT / "mlpeg" / "models" / "models.yml"
    assert str(error.value) == (
        f"Model 'chgnet-0.3.0' is defined twice: in {shipped} and in {mine.resolve()}; "
        "rename one of them."
    )


def test_the_same_name_in_two_user_files_names_both(user_home, tmp_path, monkeypatch):
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    for path in (first, second):
        path.write_text("twin: {family: python, factory: 'ase.calculators.emt:EMT'}\n")
    monkeypatch.setenv("MLPEG_MODELS_FILES", f"{first}{os.pathsep}{second}")
    registry.clear_cache()
    with pytest.raises(ConfigError, match=f"in {first} and in {second}"):
        registry.get_model("twin")


def test_a_missing_models_file_is_one_error(user_home, tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_MODELS_FILES", str(tmp_path / "nowhere.yml"))
    registry.clear_cache()
    with pytest.raises(ConfigError, match=r"nowhere\.yml .* does not exist"):
        registry.all_models()


def test_models_file_is_taken_anywhere_on_the_command_line():
    argv = ["calc", "-b", "S22", "--models-file", "a.yml", "-m", "x", "--models-file=b.yml"]
    assert hoist_models_files(argv) == [
        "--models-file",
        "a.yml",
        "--models-file=b.yml",
        "calc",
        "-b",
        "S22",
        "-m",
        "x",
    ]
    assert hoist_models_files(["sql", "--", "--models-file"]) == ["sql", "--", "--models-file"]


def test_models_add_writes_a_checked_entry_with_the_checkpoint_sha256(user_home, tmp_path):
    weights = tmp_path / "my.model"
    weights.write_bytes(b"not really weights, but bytes with a checksum")
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(
            app,
            [
                *("models", "add", "my-mace", "--family", "mace", "--checkpoint", "./my.model"),
                *("-e", "H,C", "-e", "O", "--level-of-theory", "PBE", "--option", "head=omat_pbe"),
            ],
        )
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    written = yaml.safe_load((user_home / "mlpeg" / "models.yml").read_text())
    assert written == {
        "my-mace": {
            "family": "mace",
            "checkpoint": str(weights.resolve()),
            "checkpoint_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
            "trained_on_dispersion": False,
            "elements": ["H", "C", "O"],
            "level_of_theory": "PBE",
            "options": {"head": "omat_pbe"},
        }
    }
    registry.clear_cache()
    assert registry.get_model("my-mace").checkpoint_kind == "file"  # read back by default
    again = CliRunner().invoke(
        app, ["models", "add", "my-mace", "--family", "python", "--factory", "a.b:c"]
    )
    assert isinstance(again.exception, ConfigError)
    assert str(again.exception) == (
        f"Model 'my-mace' is already defined in {(user_home / 'mlpeg' / 'models.yml').resolve()}; "
        "choose another name or edit it there."
    )


def test_the_probe_is_a_dimer_of_the_lowest_declared_element(user_home, tmp_path, monkeypatch):
    _user_file(tmp_path, "cu: {family: python, factory: 'x.y:z', elements: [Cu, Au]}", monkeypatch)
    atoms = probe_structure(registry.get_model("cu"))
    assert atoms.get_chemical_formula() == "Cu2"
    assert atoms.get_distance(0, 1) == pytest.approx(2 * 1.32)  # ASE's covalent radius of Cu
    assert atoms.pbc.all()


@pytest.mark.parametrize(
    ("factory", "sentence"),
    [
        (
            "nosuchpackage.calc:Make",
            "Model 'bad': factory nosuchpackage.calc:Make cannot be imported "
            "(ModuleNotFoundError: No module named 'nosuchpackage').",
        ),
        (
            "badfactories:not_a_calculator",
            "Model 'bad': factory badfactories:not_a_calculator returned a builtins.dict, not "
            "an ASE calculator (ase.calculators.calculator.BaseCalculator).",
        ),
        (
            "badfactories:EnergyOnly",
            "Model 'bad': factory badfactories:EnergyOnly returned a EnergyOnly whose "
            "implemented_properties lack forces (it declares energy).",
        ),
        (
            "badfactories:Raises",
            "Model 'bad': factory badfactories:Raises: its calculator raised RuntimeError (no "
            "parameters for this structure) on a probe H2 dimer, the first structure it was "
            "given (declare the elements it covers with elements: in its entry if that one is "
            "not).",
        ),
        (
            "badfactories:ReturnsNaN",
            "Model 'bad': factory badfactories:ReturnsNaN: its calculator returned energy nan "
            "for a probe H2 dimer.",
        ),
    ],
)
def test_a_bad_factory_is_one_clear_error_on_first_use(
    user_home, tmp_path, monkeypatch, bad_factories, factory, sentence
):
    _user_file(tmp_path, f"bad: {{family: python, factory: '{factory}'}}", monkeypatch)
    with pytest.raises(ConfigError) as error:
        registry.preflight(registry.get_model("bad"), device="cpu")
    assert str(error.value) == sentence


def test_mlpeg_run_with_a_bad_factory_stops_before_anything_is_written(
    user_home, tmp_path, monkeypatch, bad_factories
):
    models = _user_file(
        tmp_path, "bad: {family: python, factory: 'badfactories:Raises'}", monkeypatch
    )
    warehouse = tmp_path / "wh" / "mlpeg.duckdb"
    result = CliRunner().invoke(
        app,
        [
            *("--models-file", str(models), "run", "-b", "S22", "--subset", "1", "-m", "bad"),
            *("-w", str(warehouse)),
        ],
    )
    assert isinstance(result.exception, ConfigError), result.output
    assert str(result.exception).startswith("Model 'bad': factory badfactories:Raises: its ")
    assert not warehouse.exists()
    assert not list((warehouse.parent / "landing").rglob("*.parquet"))


def test_declared_charge_and_spin_are_checked_on_the_probe(
    user_home, tmp_path, monkeypatch, bad_factories
):
    _user_file(
        tmp_path,
        """
        aware: {family: python, factory: 'badfactories:ChargeAware', accepts: {charge: true}}
        claims-spin: {family: python, factory: 'badfactories:ChargeAware', accepts: {spin: true}}
        emt-charged: {family: python, factory: 'ase.calculators.emt:EMT', accepts: {charge: true}}
        """,
        monkeypatch,
    )
    registry.preflight(registry.get_model("aware"), device="cpu")
    for name, flag, what in (
        ("claims-spin", "spin", "spin multiplicity 3"),
        ("emt-charged", "charge", "charge +2"),
    ):
        with pytest.raises(ConfigError) as error:
            registry.preflight(registry.get_model(name), device="cpu")
        assert f"its entry says it accepts {flag}, but its calculator gives energy" in str(
            error.value
        )
        assert f"for the probe with {what}, as for the neutral singlet" in str(error.value)


def test_a_factory_gets_its_options_and_a_checked_checkpoint(user_home, tmp_path, monkeypatch):
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "ownfactory.py").write_text(
        "from ase.calculators.lj import LennardJones\n"
        "def make(checkpoint, sigma):\n"
        "    assert open(checkpoint, 'rb').read() == b'weights'\n"
        "    return LennardJones(sigma=sigma, epsilon=0.01, rc=6.0)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    _user_file(
        tmp_path,
        f"""
        lj: {{family: python, factory: 'ownfactory:make', checkpoint: {weights},
              checkpoint_sha256: '{digest}', options: {{sigma: 2.5}}, elements: [Ar]}}
        tampered: {{family: python, factory: 'ownfactory:make', checkpoint: {weights},
              checkpoint_sha256: '{"0" * 64}', options: {{sigma: 2.5}}, elements: [Ar]}}
        """,
        monkeypatch,
    )
    calc = registry.make_calculator(registry.get_model("lj"), device="cpu")
    dimer = molecule("H2")
    dimer.set_chemical_symbols(["Ar", "Ar"])
    dimer.set_distance(0, 1, 2.5 * 2 ** (1 / 6))  # the minimum of LJ: -epsilon (+ the shift)
    dimer.calc = calc
    direct = dimer.copy()
    from ase.calculators.lj import LennardJones

    direct.calc = LennardJones(sigma=2.5, epsilon=0.01, rc=6.0)
    assert dimer.get_potential_energy() == pytest.approx(direct.get_potential_energy(), abs=1e-12)
    assert np.abs(dimer.get_forces()).max() < 1e-10  # at the minimum
    with pytest.raises(ConfigError, match=r"w.bin has sha256 .*the registry pins 000000000000"):
        registry.make_calculator(registry.get_model("tampered"), device="cpu")


def test_emt_through_the_factory_is_emt(user_home, tmp_path, monkeypatch):
    _user_file(
        tmp_path,
        f"emt-f: {{family: python, factory: 'ase.calculators.emt:EMT', elements: {EMT_ELEMENTS}}}",
        monkeypatch,
    )
    atoms = molecule("CH4")
    atoms.calc = registry.make_calculator(registry.get_model("emt-f"), device="cpu")
    direct = molecule("CH4")
    direct.calc = EMT()
    assert atoms.get_potential_energy() == direct.get_potential_energy()


def test_an_installed_package_registers_its_models_through_entry_points(tmp_path):
    """pip install of a tiny package into a temporary venv makes its models appear (~6 s)."""
    package = tmp_path / "pkg"
    (package / "tiny_mlip").mkdir(parents=True)
    (package / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "tiny-mlip"
            version = "0.1"

            [project.entry-points."mlpeg.models"]
            tiny-emt = "tiny_mlip:make_calculator"
            tiny-lj = "tiny_mlip:LJ_ENTRY"
            """
        )
    )
    (package / "tiny_mlip" / "__init__.py").write_text(
        textwrap.dedent(
            """
            LJ_ENTRY = {
                "factory": "ase.calculators.lj:LennardJones",
                "options": {"sigma": 3.4, "epsilon": 0.0104},
                "elements": ["Ar"],
                "level_of_theory": "Lennard-Jones",
            }

            def make_calculator():
                from ase.calculators.emt import EMT
                return EMT()
            """
        )
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # mlpeg's dependencies come from this environment; the package goes into the new one
    (Path(purelib) / "lend.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", str(python), "install", "-q"),
            *("--no-deps", "--no-build-isolation", str(package)),
        ],
        check=True,
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "COLUMNS": "200",
    }
    env.pop("MLPEG_MODELS", None)
    env.pop("MLPEG_MODELS_FILES", None)
    shown = subprocess.run(
        [python, "-m", "mlpeg.cli", "models", "--format", "csv", "-w", str(tmp_path / "w.duckdb")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    rows = {line.split(",")[0]: line.split(",") for line in shown.stdout.splitlines()}
    assert rows["tiny-emt"][1:4] == ["python", "main", "true"]
    assert rows["tiny-lj"][1:4] == ["python", "main", "true"]
    assert rows["tiny-lj"][5:7] == ["Lennard-Jones", "1"]  # level of theory, one element
