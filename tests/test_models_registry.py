"""The model registry without torch: validation, element coverage, availability, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mlpeg.cli import app
from mlpeg.data import RemoteFile, fetch
from mlpeg.errors import ConfigError, MlpegError
from mlpeg.models import checkpoints, registry
from mlpeg.models.prepare import charge_and_spin

ML_PEG_MODELS = (
    "mace-mp-0a",
    "mace-mp-0b3",
    "mace-mpa-0",
    "mace-omat-0",
    "MACE-OFF23(L)",
    "MACE-OFF24(M)",
    "mace-omol",
    "orb-v3-consv-inf-omat",
    "orb-v3-direct-inf-omat",
    "orb-v3-consv-omol",
    "chgnet-0.3.0",
    "sevennet-0",
)
ELEMENT_COVERAGE = RemoteFile(
    "ddmms",
    "ml-peg",
    "6a03c7a07dbf75388cdb3a2ba635fc69d4f44d26",
    "ml_peg/app/data/element_coverage.json",
    "78e253df231cf49d0dba9e0a3e521e03a1aa81b34628b150847ee84c628d56f7",
)


@pytest.fixture
def offline(monkeypatch):
    """No download host answers (as on this machine), whatever the real network does."""
    monkeypatch.setattr(checkpoints, "host_reachable", lambda host: False)


@pytest.fixture
def models_yml(tmp_path, monkeypatch):
    """Write a models.yml in a temporary folder and point the registry at it."""

    def write(text: str) -> Path:
        path = tmp_path / "models.yml"
        path.write_text(text)
        monkeypatch.setenv("MLPEG_MODELS", str(path))
        registry.clear_cache()
        return path

    return write


def test_shipped_registry_holds_ml_peg_models_with_metadata():
    models = registry.all_models()
    for name in ML_PEG_MODELS:
        spec = models[name]
        assert spec.level_of_theory and spec.training_sets and spec.licence, name
        assert not spec.test_only
    assert [spec.name for spec in registry.default_models()] == ["chgnet-0.3.0", "sevennet-0"]
    assert {spec.family for spec in registry.default_models()} == {"chgnet", "sevennet"}
    assert not models["chgnet-0.3.0"].trained_on_dispersion  # so X23 adds D3(BJ) to it
    assert models["MACE-OFF23(L)"].trained_on_dispersion


def test_element_coverage_matches_ml_peg_training_sets():
    coverage = json.loads(fetch(ELEMENT_COVERAGE).read_text())["datasets"]
    models = registry.all_models()
    for name, dataset in [
        ("chgnet-0.3.0", "MPtrj"),
        ("sevennet-0", "MPtrj"),
        ("mace-mpa-0", "sAlex"),
        ("mace-omat-0", "OMAT"),
        ("MACE-OFF23(L)", "SPICE"),
        ("mace-omol", "OMol25"),
        ("orb-v3-consv-omol", "OMol25"),
    ]:
        assert set(registry.element_symbols(models[name])) == set(coverage[dataset]["supported"]), (
            name
        )
    assert len(models["chgnet-0.3.0"].elements) == 89  # H-Bi (83) and Ac-Pu (6)
    assert registry.element_symbols(models["mace-ge-sb-te"]) == ["Ge", "Sb", "Te"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("m: {family: mace, checkpoint: a.model, colour: blue}", "Additional properties"),
        ("m: {family: nequip, checkpoint: x}", "at m/family: 'nequip' is not one of"),
        ("m: {family: mace}", "at m: 'checkpoint' is a required property"),
        ("m: {family: mace, checkpoint: mace_mp:huge}", "mace_mp has no model 'huge'"),
        ("m: {family: mace, checkpoint: medium}", "neither a model file nor <loader>:<model>"),
        ("m: {family: mace, checkpoint: 'https://x.org/a.model'}", "needs checkpoint_sha256"),
        ("m: {family: orb, checkpoint: orb-v9}", "orb has no pretrained model 'orb-v9'"),
        ("m: {family: orb, checkpoint: w/orb.ckpt}", "needs options.architecture"),
        ("m: {family: chgnet, checkpoint: '9.9'}", "chgnet has no pretrained version '9.9'"),
        ("m: {family: sevennet, checkpoint: 7net-9}", "sevenn has no pretrained model"),
        ("m: {family: mock, checkpoint: z, elements: [H, Xx]}", "'Xx' is not a chemical symbol"),
        ("m: {family: mock, checkpoint: z, elements: [Bi-H]}", "range 'Bi-H' runs backwards"),
        ("m-D3: {family: mock, checkpoint: z}", "D3 is not part of a model's name. Use 'm'"),
        ("m: {family: mock, checkpoint: z, dtype: float16}", "'float16' is not one of"),
        ("m: [family, mock]", "at m: ['family', 'mock'] is not of type 'object'"),
        ("m: {family: mock, checkpoint: z\n", "invalid YAML"),
    ],
)
def test_broken_models_yml_gives_one_clear_error(models_yml, entry, message):
    path = models_yml(entry)
    with pytest.raises(ConfigError) as info:
        registry.all_models()
    text = str(info.value)
    assert message in text
    assert str(path) in text
    assert "\n" not in text


def test_relative_checkpoint_paths_are_relative_to_the_registry(models_yml, tmp_path):
    (tmp_path / "weights").mkdir()
    (tmp_path / "weights" / "tiny.model").write_bytes(b"not really a model")
    models_yml("m: {family: mace, checkpoint: weights/tiny.model}\n")
    spec = registry.get_model("m")
    assert spec.checkpoint_kind == "file"
    assert spec.checkpoint == str(tmp_path / "weights" / "tiny.model")
    assert registry.availability(spec) == (True, f"model file {spec.checkpoint}")


def test_unknown_model_names_the_known_ones(models_yml):
    models_yml("a: {family: mock, checkpoint: z}\nb: {family: mock, checkpoint: z}\n")
    with pytest.raises(ConfigError, match=r"Unknown model .c.\. Known models: a, b\."):
        registry.get_model("c")
    with pytest.raises(
        ConfigError, match=r"Model 'a-D3': D3 is not part of a model's name\. Use 'a'"
    ):
        registry.get_model("a-D3")


def test_offline_availability_says_why(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CACHED_PATH_CACHE_ROOT", str(tmp_path / "cached_path"))
    models = registry.all_models()
    assert registry.availability(models["chgnet-0.3.0"]) == (
        True,
        "weights ship in the chgnet wheel",
    )
    assert registry.availability(models["sevennet-0"])[0]
    available, why = registry.availability(models["mace-mpa-0"])
    assert not available
    assert why == "weights not reachable offline: not cached, github.com unreachable"
    available, why = registry.availability(models["orb-v3-consv-inf-omat"])
    assert not available and "orbitalmaterials-public-models" in why
    # Once the weights sit where mace's loader caches them, the model is available.
    cached = tmp_path / "xdg" / "mace" / "macempa0mediummodel"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"weights")
    assert registry.availability(models["mace-mpa-0"]) == (True, f"weights at {cached}")


def test_pinned_url_checkpoint_is_available_from_the_mirror_only(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("MLPEG_CACHE", str(tmp_path / "empty-cache"))  # other tests fill theirs
    spec = registry.get_model("mace-ge-sb-te")
    available, why = registry.availability(spec)
    assert available
    assert why == "weights at data mirror: ACEsuit/mace/" + spec.checkpoint.split("/mace/")[1]
    monkeypatch.delenv("MLPEG_DATA_MIRROR")
    available, why = registry.availability(spec)
    assert not available
    assert "raw.githubusercontent.com unreachable" in why and "MLPEG_DATA_MIRROR" in why


def test_github_urls_map_to_pinned_files():
    sha = "3f1251c8655192faf9d28f2f857533f66507bb7abee3f1781c6a71336f26da3f"
    raw = checkpoints.github_file(
        "https://raw.githubusercontent.com/ACEsuit/mace/4bb7f799/training/mace_swa.model", sha
    )
    blob = checkpoints.github_file(
        "https://github.com/ACEsuit/mace/blob/4bb7f799/training/mace_swa.model", sha
    )
    assert raw == blob == RemoteFile("ACEsuit", "mace", "4bb7f799", "training/mace_swa.model", sha)
    assert checkpoints.github_file("https://example.org/a.model", sha) is None


def test_d3_settings_resolve_the_backend():
    settings = registry.d3_settings(registry.get_model("chgnet-0.3.0"))
    assert settings["damping"] == "bj" and settings["functional"] == "pbe"
    assert settings["cutoff"] == pytest.approx(95 * 0.52917721, rel=1e-6)
    assert settings["backend"] == "dftd3"  # installed here, and ~200× faster (bench/)


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        ({}, (0, 1)),
        ({"charge": -1, "spin": 2}, (-1, 2)),
        ({"charge": 1.0, "multiplicity": 3}, (1, 3)),
        ({"spin": 1, "multiplicity": 3}, (0, 1)),
    ],
)
def test_charge_and_spin_from_info(info, expected):
    assert charge_and_spin(info) == expected


@pytest.mark.parametrize(
    ("info", "message"),
    [({"charge": 0.5}, "not a whole number"), ({"spin": 0}, "multiplicity is at least 1")],
)
def test_bad_charge_or_spin_is_one_clear_error(info, message):
    with pytest.raises(MlpegError, match=message):
        charge_and_spin(info)


def test_cli_lists_models_and_why_they_cannot_run(offline, monkeypatch, tmp_path):
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    for name in ML_PEG_MODELS:
        assert name in lines
    assert "mock" not in lines  # test-only models need --all
    assert (
        "yes" in lines["chgnet-0.3.0"]
        and "weights ship in the chgnet wheel" in lines["chgnet-0.3.0"]
    )
    assert "no" in lines["mace-mp-0a"] and "github.com unreachable" in lines["mace-mp-0a"]
    assert "412,525" in lines["chgnet-0.3.0"] and "89" in lines["chgnet-0.3.0"]
    # Offline: the chgnet and sevenn wheels' weights, matgl's mirrored MatPES folders,
    # tblite's xTB and the mirrored Ge/Sb/Te MACE can run, nothing else.
    listed = [spec for spec in registry.all_models().values() if not spec.test_only]
    runnable = {
        "chgnet-0.3.0", "chgnet-0.2.0", "chgnet-r2scan", "sevennet-0",
        "sevennet-0-22may2024", "sevennet-l3i5", "tensornet-matpes-pbe",
        "tensornet-matpes-r2scan", "m3gnet-matpes-pbe", "gfn2-xtb", "gfn1-xtb", "mace-ge-sb-te",
    }  # fmt: skip
    assert {spec.name for spec in registry.offline_models()} == runnable
    text = " ".join(result.output.split())
    assert f"{len(runnable)} of {len(listed)} models can run here" in text
    assert "package fairchem-core is not installed" in lines["uma-s-1p1-omat"]
    assert "gfn2-xtb (baseline)" in lines
