"""The real case: SevenNet-MF-0 in the sevenn-0.13 environment beside MACE in this one.

sevenn 0.13 needs e3nn >= 0.5 and mace-torch 0.3.16 pins e3nn 0.4.4, so they cannot share
an environment. Skipped unless ``mlpeg env build sevenn-0.13`` has been run (it installs
torch 2.13.0 and sevenn 0.13.0 from PyPI into ``$MLPEG_ENVS``, default
``~/.cache/mlpeg/envs``).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from ase.build import bulk, molecule

from mlpeg import catalog
from mlpeg.calc.runner import run_tasks
from mlpeg.calc.tasks import SinglePoint, Task
from mlpeg.landing import read_metadata
from mlpeg.models import registry
from mlpeg.models.d3 import d3_calculator

#: Where the environment was built, read before the test fixtures move the cache.
ENVS = Path(
    os.environ.get(
        "MLPEG_ENVS",
        Path(os.environ.get("MLPEG_CACHE", Path.home() / ".cache" / "mlpeg")) / "envs",
    )
)
PYTHON = ENVS / "sevenn-0.13" / "bin" / "python"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not PYTHON.exists(), reason=f"run `mlpeg env build sevenn-0.13` first ({PYTHON})"
    ),
]

#: sevenn's own calculator in its own environment, on the same structures (by name).
DIRECT = textwrap.dedent(
    """
    import json
    from ase.build import bulk, molecule
    from sevenn.calculator import SevenNetCalculator

    calc = SevenNetCalculator("7net-mf-0", device="cpu", modal="PBE")
    answer = []
    for atoms in (bulk("NaCl", "rocksalt", a=5.64), molecule("H2O")):
        atoms.calc = calc
        answer.append([atoms.get_potential_energy(), atoms.get_forces().tolist()])
    print(json.dumps(answer))
    """
)


def structures() -> list[Task]:
    kind = SinglePoint(("energy", "forces"))
    return [
        Task("NaCl", "solid", bulk("NaCl", "rocksalt", a=5.64), kind),
        Task("H2O", "molecule", molecule("H2O"), kind),
    ]


def rows_of(parts) -> list[dict]:
    return [row for part in parts for row in pq.read_table(part).to_pylist()]


def test_sevennet_mf_0_in_its_environment_equals_sevenns_own_calculator(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPEG_ENVS", str(ENVS))
    registry.clear_cache()
    spec = registry.get_model("sevennet-mf-0")
    eos = catalog.get_benchmark("elemental_eos")  # no D3: sevenn's calculator alone
    summary = run_tasks(structures(), spec, eos, landing=tmp_path)
    rows = {row["system"]: row for row in rows_of(summary.parts)}
    assert summary.n_ok == 2, rows
    direct = subprocess.run(
        [str(PYTHON), "-c", DIRECT], capture_output=True, text=True, check=True, timeout=600
    )
    expected = json.loads(direct.stdout.strip().splitlines()[-1])
    for system, (energy, forces) in zip(("NaCl", "H2O"), expected, strict=True):
        assert rows[system]["energy"] == pytest.approx(energy, abs=1e-6)
        np.testing.assert_allclose(rows[system]["forces"], forces, atol=1e-5)
    run = read_metadata(pq.read_schema(summary.parts[0]))["run"]
    assert run["versions"]["sevenn"] == "0.13.0"
    assert run["versions"]["environment"] == "sevenn-0.13"
    assert int(run["versions"]["e3nn"].split(".")[1]) >= 5
    assert run["model"]["checkpoint"].endswith("SevenNet_MF_0/checkpoint_sevennet_mf_0.pth")
    assert len(run["model"]["checkpoint_sha256"]) == 64
    if importlib.util.find_spec("mace") is not None:  # the conflict this environment avoids
        assert importlib.metadata.version("e3nn") == "0.4.4"
    # X23 asks for D3(BJ): added in the worker by the environment's own dftd3
    water = [structures()[1]]
    with_d3 = run_tasks(water, spec, catalog.get_benchmark("X23"), landing=tmp_path / "d3")
    (row,) = rows_of(with_d3.parts)
    assert row["state"] == "ok", row["error"]
    d3 = read_metadata(pq.read_schema(with_d3.parts[-1]))["run"]["model"]["d3"]
    assert d3["backend"] == "dftd3" and d3["damping"] == "bj"
    alone = molecule("H2O")
    alone.calc = d3_calculator(**d3)
    assert row["energy"] - rows["H2O"]["energy"] == pytest.approx(
        alone.get_potential_energy(), abs=1e-6
    )
