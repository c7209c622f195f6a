"""Fuzzing the ML-PEG importer: same reading as ASE, clear errors, nothing stored lost.

* the fast comment-line parser and extxyz reader agree with ASE's own on generated input;
* damaged files (truncated, garbled, info keys missing) end as one clear sentence naming
  the file, never as a traceback;
* importing damaged files into a warehouse that already holds results skips them and
  leaves every stored number as it was.
"""

from __future__ import annotations

import io
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write
from ase.io.extxyz import key_val_dict_to_str, key_val_str_to_dict
from conftest import MIRROR, TEST_MODELS
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlpeg import catalog
from mlpeg.importers.extxyz import ExtxyzError, comment_info, parse_frames
from mlpeg.importers.mapping import BenchmarkMapping, SkipFile, mapping_for
from mlpeg.importers.ml_peg import FileStatus, plan_import, run_import
from mlpeg.importers.synthetic import write_x23_outputs, x23_inputs
from mlpeg.models import registry
from mlpeg.paths import REPO_ROOT
from mlpeg.warehouse.connect import writer

PATH = Path("outputs/model/file.xyz")


def same(a, b) -> bool:
    """Equal values and types, NaN equal to NaN, arrays element by element."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same(a[k], b[k]) for k in a)
        )
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind == "f":
            return bool(np.array_equal(a, b, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, float | np.floating):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


# --- the comment line ---------------------------------------------------------------------

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda k: k not in {"Lattice", "stress", "virial", "Properties", "pbc", "uid"}
)
plain_text = st.text(alphabet="abcXYZ_-.0123456789", min_size=1, max_size=8)
numbers = st.one_of(
    st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32)
)
info_values = st.one_of(
    numbers,
    st.booleans(),
    plain_text,
    st.lists(numbers, min_size=2, max_size=4).map(np.array),
    st.lists(st.booleans(), min_size=2, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(info=st.dictionaries(keys, info_values, max_size=5), lattice=st.booleans())
def test_comment_parser_reads_what_ase_writes_as_ase_does(info, lattice):
    if lattice:
        info = {"Lattice": np.arange(9.0).reshape(3, 3), **info, "pbc": np.array([True] * 3)}
    line = key_val_dict_to_str(info)
    assume(line.strip())  # ASE's reader, like ours, never parses an empty comment line
    assert same(comment_info(line), key_val_str_to_dict(line))


@settings(max_examples=400, deadline=None)
@given(line=st.text(alphabet=" =\",abcTE+01.5-_'[]{}\\\tLatice", max_size=40))
def test_comment_parser_matches_ase_on_any_line(line):
    assume(line.strip())
    try:
        expected = key_val_str_to_dict(line)
    except Exception as exc:
        with pytest.raises(type(exc)):
            comment_info(line)
        return
    assert same(comment_info(line), expected)


# --- whole frames ---------------------------------------------------------------------------

symbols = st.sampled_from(["H", "C", "N", "O", "Cu", "Xe"])
coordinate = st.floats(-50, 50, allow_nan=False, width=32)


@st.composite
def frames(draw) -> list[Atoms]:
    images = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 5))
        atoms = Atoms(
            draw(st.lists(symbols, min_size=n, max_size=n)),
            positions=draw(
                st.lists(st.tuples(coordinate, coordinate, coordinate), min_size=n, max_size=n)
            ),
        )
        if draw(st.booleans()):
            atoms.cell = np.diag(draw(st.tuples(*[st.floats(1, 30)] * 3)))
            atoms.pbc = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
        atoms.info.update(draw(st.dictionaries(keys, info_values, max_size=3)))
        results = {}
        if draw(st.booleans()):
            results["energy"] = draw(st.floats(-1e4, 1e4) | st.just(math.nan))
        if draw(st.booleans()):
            results["forces"] = np.asarray(
                draw(
                    st.lists(st.tuples(coordinate, coordinate, coordinate), min_size=n, max_size=n)
                )
            )
        if draw(st.booleans()):
            results["stress"] = np.asarray(draw(st.tuples(*[coordinate] * 6)))
        if results:
            atoms.calc = SinglePointCalculator(atoms, **results)
        images.append(atoms)
    return images


def _text(images: list[Atoms]) -> str:
    buffer = io.StringIO()
    write(buffer, images, format="extxyz")
    return buffer.getvalue()


def _assert_like_ase(text: str) -> None:
    ours = parse_frames(text, PATH)
    theirs = read(io.StringIO(text), index=":", format="extxyz")
    assert len(ours) == len(theirs)
    for frame, atoms in zip(ours, theirs, strict=True):
        assert np.array_equal(frame.numbers, atoms.numbers)
        assert np.array_equal(frame.positions, atoms.positions)
        assert np.array_equal(frame.cell, atoms.cell.array)
        assert np.array_equal(frame.pbc, atoms.pbc)
        assert same(frame.info, atoms.info)
        results = atoms.calc.results if atoms.calc is not None else {}
        assert same(frame.energy, None if "energy" not in results else float(results["energy"]))
        for name in ("forces", "stress"):
            mine, ase_value = getattr(frame, name), results.get(name)
            assert (mine is None) == (ase_value is None)
            if mine is not None:
                assert np.array_equal(mine, ase_value)


@settings(max_examples=150, deadline=None)
@given(images=frames())
def test_reader_matches_ase_on_written_frames(images):
    _assert_like_ase(_text(images))


@st.composite
def damaged(draw, text: str) -> str:
    lines = text.splitlines(keepends=True)
    how = draw(st.sampled_from(["truncate", "drop", "garble", "count", "insert"]))
    if how == "truncate":
        return text[: draw(st.integers(0, len(text) - 1))]
    index = draw(st.integers(0, len(lines) - 1))
    if how == "drop":
        del lines[index]
    elif how == "garble":
        tokens = lines[index].split(" ")
        position = draw(st.integers(0, len(tokens) - 1))
        tokens[position] = draw(st.text(alphabet='xyz=".,[]{}T-1e5\\', max_size=6))
        lines[index] = " ".join(tokens)
    elif how == "count":
        lines[index] = f"{draw(st.integers(-3, 40))}\n"
    else:
        lines.insert(index, draw(st.text(alphabet='ab =1."', max_size=12)) + "\n")
    return "".join(lines)


@pytest.fixture(scope="module")
def x23_file(tmp_path_factory) -> tuple[str, BenchmarkMapping]:
    """The ammonia file as ML-PEG's X23 calc writes it, and the X23 mapping."""
    root = tmp_path_factory.mktemp("x23_file")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        structures, references = x23_inputs()
        mapping = mapping_for(catalog.get_benchmark("X23"))
    ammonia = {"ammonia": (-20.0, -4.5)}
    (path,) = write_x23_outputs(root, structures, references, ammonia)
    return path.read_text(), mapping


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_x23_files_fail_with_one_sentence(x23_file, data):
    text, mapping = x23_file
    broken = data.draw(damaged(text))
    try:
        frames_read = parse_frames(broken, PATH)
        mapping.read_file(PATH, frames_read)
    except (ExtxyzError, SkipFile) as exc:
        message = str(exc)
        assert message.startswith(str(PATH)) and message.endswith(".")
        assert "\n" not in message
        return
    _assert_like_ase(broken)  # whatever is accepted is read exactly as ASE reads it


# --- the warehouse keeps what it had -------------------------------------------------------


@pytest.fixture(scope="module")
def stocked(tmp_path_factory):
    """A warehouse holding model-a's X23 import; yields (connection, root, baseline)."""
    root = tmp_path_factory.mktemp("fuzz_import")
    (root / "models.yml").write_text(TEST_MODELS)
    benchmarks = root / "benchmarks" / "molecular_crystal"
    source = REPO_ROOT / "benchmarks" / "molecular_crystal"
    shutil.copytree(source / "X23", benchmarks / "X23")
    shutil.copy(source / "category.yml", benchmarks / "category.yml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        patch.setenv("MLPEG_BENCHMARKS", str(benchmarks.parent))
        patch.setenv("MLPEG_DATA_MIRROR", str(MIRROR))
        patch.setenv("MLPEG_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        catalog.clear_cache()
        registry.clear_cache()
        structures, references = x23_inputs()
        energies = {
            s: (-10.0 * len(r["solid"]), -10.0 * len(r["molecule"])) for s, r in structures.items()
        }
        tree = root / "first"
        write_x23_outputs(
            tree / "molecular_crystal/X23/outputs/model-a", structures, references, energies
        )
        with writer(root / "wh" / "mlpeg.duckdb") as con:
            report = run_import(con, plan_import(con, tree), landing=root / "wh" / "landing")
            assert report.exit_code == 0
            yield con, root, (structures, references), _stored(con)
    catalog.clear_cache()
    registry.clear_cache()


def _stored(con) -> list:
    return (
        con.execute(
            "select run_id, system, role, energy, structure_id from predictions "
            "where model_key = 'model-a' order by all"
        ).fetchall()
        + con.execute("select * from reference_values order by all").fetchall()
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_damaged_imports_skip_the_file_and_keep_what_is_stored(stocked, data):
    con, root, (structures, references), baseline = stocked
    number = len(list(root.glob("fuzz-*")))
    tree = root / f"fuzz-{number}"
    folder = tree / "molecular_crystal/X23/outputs" / f"fuzz-model-{number}"
    energies = {"urea": (-90.0, -40.0), "ammonia": (-36.0, -8.5)}
    write_x23_outputs(folder, structures, references, energies)
    victim = folder / "ammonia.xyz"
    text = victim.read_text()
    key = data.draw(st.sampled_from(["ref", "num_molecules", "system", None]))
    if key is not None:  # drop an info key from the solid's comment line
        lines = text.splitlines(keepends=True)
        lines[1] = " ".join(t for t in lines[1].split(" ") if not t.startswith(f"{key}="))
        broken = "".join(lines)
    else:
        broken = data.draw(damaged(text))
    assume(broken != text)
    victim.write_text(broken)

    report = run_import(con, plan_import(con, tree), landing=root / "wh" / "landing")

    outcomes = {f.path.name: f for f in report.files}
    assert outcomes["urea.xyz"].status == FileStatus.IMPORTED
    ammonia = outcomes["ammonia.xyz"]
    if ammonia.status == FileStatus.SKIPPED:
        assert ammonia.message.startswith(str(victim.relative_to(tree)))
    if key is not None:
        assert ammonia.status == FileStatus.SKIPPED
        assert f"lacks the info key '{key}'" in ammonia.message
    assert not report.rejected
    assert _stored(con) == baseline
