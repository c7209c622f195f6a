"""Saved scoring profiles: `mlpeg profile`, `mlpeg leaderboard --profile` and `mlpeg_profile`.

On the warehouse of tests/app_helpers.py (categories molecular_crystal and toy; benchmarks
X23 and TOY). A leaderboard under a saved profile must equal the leaderboard with the
same weights and thresholds set by hand as SQL variables.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from app_helpers import app_warehouse
from typer.testing import CliRunner

from mlpeg import catalog, profiles
from mlpeg.appdata.params import MetricOverride, ScoringParams, apply
from mlpeg.appdata.presets import PRESETS
from mlpeg.cli import app
from mlpeg.errors import ConfigError, MlpegError
from mlpeg.models import registry
from mlpeg.warehouse.connect import reader, writer

runner = CliRunner()

PROFILE_YML = """\
name: toy light
description: TOY counts a quarter, X23 twice within its category, stricter TOY MAE.
category_weights: {toy: 0.25}
benchmark_weights: {X23: 2}
metric_thresholds:
  TOY:
    MAE: {bad: 0.5}
    MAXE: {weight: 0}
"""

BY_HAND = ScoringParams(
    category_weights=(("toy", 0.25),),
    benchmark_weights=(("X23", 2.0),),
    metric_overrides=(
        MetricOverride("TOY", "MAE", bad=0.5),
        MetricOverride("TOY", "MAXE", weight=0.0),
    ),
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """One copy for the module (each test saves what it reads, under its own names)."""
    root = tmp_path_factory.mktemp("profiles")
    path = app_warehouse(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLPEG_BENCHMARKS", str(root / "benchmarks"))
        patch.setenv("MLPEG_MODELS", str(root / "models.yml"))
        catalog.clear_cache()
        registry.clear_cache()
        with writer(path):  # the copy's tree has moved: install once here, not per test
            pass
        yield path
    catalog.clear_cache()
    registry.clear_cache()


def save(warehouse, tmp_path, text: str = PROFILE_YML, *extra: str):
    source = tmp_path / "p.yml"
    source.write_text(text)
    return cli("profile", "save", str(source), "-w", str(warehouse), *extra)


def cli(*args: str):
    return runner.invoke(app, list(args))


def leaderboard_rows(warehouse, params: ScoringParams, profile: str | None = None) -> list:
    with reader(warehouse) as con:
        apply(con, params)
        if profile is not None:
            con.execute("set variable mlpeg_profile = ?", [profile])
        return con.sql("select * from leaderboard order by model_key").fetchall()


def saved_names(warehouse) -> list[str]:
    with reader(warehouse) as con:
        return [p.name for p in profiles.list_profiles(con)]


def test_saved_profile_scores_as_the_same_variables_set_by_hand(warehouse, tmp_path):
    result = save(warehouse, tmp_path)
    assert result.exit_code == 0, result.output
    assert "profile 'toy light'" in result.output  # saved, or replaced another test's

    by_hand = leaderboard_rows(warehouse, BY_HAND)
    assert by_hand != leaderboard_rows(warehouse, ScoringParams())  # the profile matters
    assert leaderboard_rows(warehouse, ScoringParams(), profile="toy light") == by_hand

    shown = cli("leaderboard", "--profile", "toy light", "-f", "json", "-w", str(warehouse))
    assert shown.exit_code == 0, shown.output
    rows = sorted(json.loads(shown.output), key=lambda row: row["model_key"])
    with reader(warehouse) as con:
        apply(con, BY_HAND)
        expected = con.sql("select * from leaderboard order by model_key").to_arrow_table()
    assert [row["overall"] for row in rows] == pytest.approx(
        expected.column("overall").to_pylist(), nan_ok=True
    )
    assert [row["toy"] for row in rows] == expected.column("toy").to_pylist()


def test_variables_set_by_hand_win_over_the_profile(warehouse, tmp_path):
    assert save(warehouse, tmp_path).exit_code == 0
    mine = ScoringParams(category_weights=(("toy", 1.0),))
    # toy back to 1 by hand; the profile's X23 weight and TOY thresholds still apply
    expected = ScoringParams(
        category_weights=(("toy", 1.0),),
        benchmark_weights=BY_HAND.benchmark_weights,
        metric_overrides=BY_HAND.metric_overrides,
    )
    assert leaderboard_rows(warehouse, mine, profile="toy light") == leaderboard_rows(
        warehouse, expected
    )


def test_presets_are_builtin_profiles_weighting_unlisted_categories_zero(warehouse):
    assert saved_names(warehouse)[: len(PRESETS)] == sorted(PRESETS)
    # Molecules lists molecular_crystal but not toy: only Molecular Crystals counts
    by_hand = ScoringParams(category_weights=(("toy", 0.0),))
    assert leaderboard_rows(warehouse, ScoringParams(), "Molecules") == leaderboard_rows(
        warehouse, by_hand
    )
    result = cli("profile", "delete", "Molecules", "-w", str(warehouse))
    assert isinstance(result.exception, MlpegError)
    assert "built-in profile" in str(result.exception)
    assert "Molecules" in saved_names(warehouse)


def test_show_exports_yaml_that_saves_back_to_the_same_profile(warehouse, tmp_path):
    assert save(warehouse, tmp_path).exit_code == 0
    exported = tmp_path / "exported.yml"
    result = cli("profile", "show", "toy light", "-o", str(exported), "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    result = cli("profile", "save", str(exported), "--name", "copy", "-w", str(warehouse))
    assert result.exit_code == 0, result.output
    assert leaderboard_rows(warehouse, ScoringParams(), "copy") == leaderboard_rows(
        warehouse, BY_HAND
    )
    listed = cli("profile", "list", "-w", str(warehouse))
    assert "toy light" in listed.output and "copy" in listed.output
    assert cli("profile", "delete", "copy", "-w", str(warehouse)).exit_code == 0
    assert "copy" not in saved_names(warehouse)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\n  weights: [\n", "p.yml line 2: invalid YAML"),
        ("name: x\ncategory_weight: {toy: 1}\n", "p.yml: at (top level): Additional properties"),
        ("name: x\ncategory_weights: {toy: -1}\n", "p.yml: at category_weights/toy: -1"),
        ("name: x\ncategory_weights: {toys: 1}\n", "p.yml: at category_weights/toys: no category"),
        ("name: x\nbenchmark_weights: {X24: 1}\n", "at benchmark_weights/X24: no benchmark 'X24'"),
        (
            "name: x\nmetric_thresholds: {TOY: {RMSE: {bad: 1}}}\n",
            "at metric_thresholds/TOY/RMSE: benchmark 'TOY' has no metric 'RMSE'",
        ),
        (
            "name: x\nmetric_thresholds: {TOY: {MAE: {worse: 1}}}\n",
            "at metric_thresholds/TOY/MAE: Additional properties",
        ),
        ("name: Molecules\n", "'Molecules' is a built-in profile"),
    ],
)
def test_bad_profiles_give_one_clear_error_and_store_nothing(warehouse, tmp_path, text, message):
    before = saved_names(warehouse)
    result = save(warehouse, tmp_path, text)
    assert isinstance(result.exception, MlpegError), result.output
    assert message in str(result.exception)
    assert "\n" not in str(result.exception)
    assert saved_names(warehouse) == before


def test_unknown_profile_is_an_error_in_the_cli_and_in_sql(warehouse):
    result = cli("leaderboard", "--profile", "nope", "-w", str(warehouse))
    assert isinstance(result.exception, MlpegError)
    assert str(result.exception).startswith("No scoring profile named 'nope'")
    with pytest.raises(duckdb.Error, match="Unknown scoring profile 'nope'"):
        leaderboard_rows(warehouse, ScoringParams(), profile="nope")


def test_yaml_errors_name_the_file(tmp_path):
    source = tmp_path / "missing.yml"
    with pytest.raises(ConfigError, match=r"Cannot read .*missing\.yml"):
        profiles.read_yaml(source)
