"""A calc builds each model once per process and reuses it across benchmarks."""

from __future__ import annotations

from ase.build import molecule

from mlpeg.calc import execute
from mlpeg.calc.execute import cached_calculator
from mlpeg.models.registry import ModelSpec


def _spec(checkpoint: str = "zeros", **options) -> ModelSpec:
    return ModelSpec(name="cached", family="hazard", checkpoint=checkpoint, options=options)


def test_the_same_model_is_built_once_and_its_results_reset():
    first = cached_calculator(_spec(), with_d3=False, device="cpu")
    water = molecule("H2O")
    water.calc = first
    energy = water.get_potential_energy()
    again = cached_calculator(_spec(), with_d3=False, device="cpu")
    assert again is first
    assert again.results == {}  # nothing of the last structure carried over
    water.calc = again
    assert water.get_potential_energy() == energy


def test_another_entry_or_d3_choice_is_another_calculator():
    plain = cached_calculator(_spec(), with_d3=False, device="cpu")
    assert cached_calculator(_spec(sleep_s=0.0), with_d3=False, device="cpu") is not plain
    assert cached_calculator(_spec(), with_d3=True, device="cpu") is not plain


def test_a_checkpoint_rewritten_in_place_is_loaded_again(tmp_path):
    path = tmp_path / "model.ckpt"
    path.write_text("one")
    first = cached_calculator(_spec(str(path)), with_d3=False, device="cpu")
    path.write_text("a new model")
    assert cached_calculator(_spec(str(path)), with_d3=False, device="cpu") is not first


def test_the_cache_keeps_the_most_recently_used(monkeypatch):
    monkeypatch.setattr(execute, "CALCULATOR_CACHE_SIZE", 2)
    a = cached_calculator(_spec(sleep_s=0.0), with_d3=False, device="cpu")
    cached_calculator(_spec(sleep_s=0.001), with_d3=False, device="cpu")
    assert cached_calculator(_spec(sleep_s=0.0), with_d3=False, device="cpu") is a  # a is newest
    cached_calculator(_spec(sleep_s=0.002), with_d3=False, device="cpu")  # drops 0.001
    assert len(execute._calculators) == 2
    assert cached_calculator(_spec(sleep_s=0.0), with_d3=False, device="cpu") is a


def test_a_model_plus_d3_is_reused_and_recomputes():
    first = cached_calculator(_spec(), with_d3=True, device="cpu")
    water = molecule("H2O")
    water.calc = first
    energy = water.get_potential_energy()
    again = cached_calculator(_spec(), with_d3=True, device="cpu")
    assert again is first and again.results == {}
    assert all(part.results == {} for part in again.mixer.calcs)
    water.calc = again
    assert water.get_potential_energy() == energy  # EMT plus D3 again, not a stale value
    water.positions[0, 0] += 0.1
    assert water.get_potential_energy() != energy
