"""What the app draws: 3Dmol.js pages, parity and periodic-table figures, weight presets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk, molecule

from mlpeg.appdata import figures, structure_html
from mlpeg.appdata.periodic import position
from mlpeg.appdata.presets import preset_weights
from mlpeg.structures import atoms_to_row


def test_cell_edges_of_a_cube():
    edges = structure_html.cell_edges([2, 0, 0, 0, 2, 0, 0, 0, 2])
    assert len(edges) == 12
    lengths = [np.linalg.norm(np.subtract(end, start)) for start, end in edges]
    assert lengths == pytest.approx([2.0] * 12)
    corners = {tuple(point) for edge in edges for point in edge}
    assert len(corners) == 8 and (2.0, 2.0, 2.0) in corners


def test_xyz_block():
    row = atoms_to_row(molecule("H2O"))
    lines = structure_html.to_xyz(row, comment="water").splitlines()
    assert lines[0] == "3" and lines[1] == "water"
    assert lines[2].split()[0] == "O"
    assert [float(v) for v in lines[2].split()[1:]] == pytest.approx(row["positions"][0])


def test_periodic_viewer_draws_the_cell_from_the_local_copy():
    html = structure_html.viewer_html([atoms_to_row(bulk("NaCl", "rocksalt", a=5.64))])
    assert "/app/static/3Dmol-min.js" in html
    assert "cdn." not in html and "https://" not in html  # nothing to fetch from the internet
    assert html.count(".addLine(") == 12
    assert ".addModel(" in html and "addModelsAsFrames" not in html


def test_molecule_viewer_has_no_cell_and_frames_animate():
    frames = [atoms_to_row(molecule("H2")) for _ in range(3)]
    html = structure_html.viewer_html(frames)
    assert ".addLine(" not in html
    assert "addModelsAsFrames" in html and ".animate(" in html
    assert html.count("frame ") == 3  # one XYZ block per frame
    still = structure_html.viewer_html(frames, animate=False)
    assert "addModelsAsFrames" not in still and still.count("frame ") == 1


def test_inline_javascript_replaces_the_url():
    html = structure_html.viewer_html([atoms_to_row(molecule("H2"))], inline_js="var marker = 1;")
    assert "<script>var marker = 1;</script>" in html
    assert "/app/static/3Dmol-min.js" not in html


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, (1, 1)),
        (2, (1, 18)),
        (5, (2, 13)),
        (26, (4, 8)),
        (56, (6, 2)),
        (57, (9, 3)),
        (71, (9, 17)),
        (72, (6, 4)),
        (92, (10, 6)),
        (118, (7, 18)),
    ],
)
def test_periodic_positions(number, expected):
    assert position(number) == expected


def test_every_element_has_its_own_cell():
    assert len({position(z) for z in range(1, 119)}) == 118


def test_preset_weights_follow_ml_peg():
    weights = preset_weights("Materials", ["bulk_crystal", "molecular_crystal", "nebs"])
    assert weights == {"bulk_crystal": 1.0, "molecular_crystal": 0.0, "nebs": 1.0}


def _points(n: int, models: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    ref = rng.normal(size=n)
    return pd.DataFrame(
        {
            "model_key": [f"m{i % models}" for i in range(n)],
            "system": [f"s{i}" for i in range(n)],
            "pred": ref + rng.normal(scale=0.1, size=n),
            "ref": ref,
            "state": "ok",
        }
    )


def test_parity_scatter_one_clickable_trace_per_model():
    points = _points(10)
    points.loc[0, "state"] = "filtered"
    points.loc[1, ["state", "pred"]] = ["failed", None]
    figure = figures.parity_figure(points, unit="eV")
    names = [trace.name for trace in figure.data]
    assert names == ["m0", "m1", "filtered (element filter)", "y = x"]
    m1 = figure.data[1]
    assert len(m1.x) == 4  # s3, s5, s7, s9; s1 failed
    assert list(m1.customdata[0][:2]) == ["m1", "s3"]
    assert figure.data[2].customdata[0][1] == "s0"


def test_parity_legend_only_for_a_readable_number_of_models():
    def frame(n_models: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "model_key": [f"m{i:02d}" for i in range(n_models)],
                "system": "s",
                "pred": 1.0,
                "ref": 1.1,
                "state": "ok",
            }
        )

    limit = figures.LEGEND_MAX_MODELS
    assert figures.parity_figure(frame(limit), unit="eV").layout.showlegend is True
    assert figures.parity_figure(frame(limit + 1), unit="eV").layout.showlegend is False


def test_parity_becomes_a_density_plot_with_clickable_outliers():
    points = _points(figures.DENSITY_THRESHOLD + 1)
    figure = figures.parity_figure(points, unit="eV")
    assert figure.data[0].type == "histogram2d"
    outliers = figure.data[1]
    assert len(outliers.x) == figures.OUTLIERS_SHOWN
    errors = (points["pred"] - points["ref"]).abs()
    assert min(abs(np.asarray(outliers.y) - np.asarray(outliers.x))) == pytest.approx(
        errors.nlargest(figures.OUTLIERS_SHOWN).min()
    )


def test_periodic_figure_colours_excluded_elements():
    figure = figures.periodic_figure({"H": 3, "O": 1}, ["O"])
    colours = dict(zip(figure.data[0].text, figure.data[0].marker.color, strict=True))
    assert colours["O"] == "#d93025"  # excluded
    assert colours["H"] == "#5c9ded"  # present
    assert colours["Fe"] == "#e8eaed"  # absent
