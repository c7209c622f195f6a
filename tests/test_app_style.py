"""How tables look: colours on the 0–1 scale and a label and colour per non-ok state."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from mlpeg.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "streamlit_app"))
import ui_style


def test_score_colour_scale_ends_and_middle():
    assert ui_style.score_colour(0.0) == "#f26b6b"
    assert ui_style.score_colour(0.5) == "#ffe082"
    assert ui_style.score_colour(1.0) == "#5cb87a"
    assert ui_style.score_colour(1.7) == ui_style.score_colour(1.0)  # clipped
    # 5 % steps: 0.26 and 0.24 both draw as 0.25, half-way between red and yellow.
    assert ui_style.score_colour(0.26) == ui_style.score_colour(0.24) == "#f8a676"
    assert ui_style.score_colour(0.28) != ui_style.score_colour(0.26)


def test_equal_colours_share_one_css_rule():
    values = pd.DataFrame({"Model": list("abcd"), "Score": [0.81, 0.79, 0.8, 0.2]})
    states = pd.DataFrame({"Score": ["ok"] * 4})
    styler = ui_style.styled(values, states, coloured=["Score"])
    styler._compute()  # as Streamlit does before reading the rules
    rules = [rule for rule in styler._translate(False, False)["cellstyle"] if rule["props"]]
    assert sorted(len(rule["selectors"]) for rule in rules) == [1, 3]


def _table():
    values = pd.DataFrame(
        {"Model": ["a", "b", "c", "d", "e"], "MAE": [0.2, np.nan, 0.4, np.nan, np.nan]}
    )
    states = pd.DataFrame({"MAE": ["ok", "not_run", "ok", "failed", "filtered"]})
    scores = pd.DataFrame({"MAE": [0.8, np.nan, 0.6, np.nan, np.nan]})
    return values, states, scores


def test_states_get_their_own_label_and_style():
    values, states, scores = _table()
    styler = ui_style.styled(
        values, states, coloured=["MAE"], colour_by=scores, higher_is_worse={"MAE"}
    )
    translated = styler._translate(True, True)
    shown = [row[2]["display_value"] for row in translated["body"]]
    assert shown == ["0.2", "not run", "0.4", "failed", "filtered"]
    styles = styler._compute().ctx
    assert ("background-color", "#b3261e") in styles[(3, 1)]  # failed
    assert ("background-color", "#b9ecf2") in styles[(4, 1)]  # filtered
    assert ("background-color", ui_style.score_colour(0.8)) in styles[(0, 1)]


@pytest.mark.parametrize(
    ("worse_when_higher", "missing_sort_last_when"), [(True, "ascending"), (False, "descending")]
)
def test_missing_values_sort_as_the_worst(worse_when_higher, missing_sort_last_when):
    values, states, _ = _table()
    higher = {"MAE"} if worse_when_higher else set()
    shown = ui_style.styled(values, states, coloured=["MAE"], higher_is_worse=higher).data["MAE"]
    order = shown.sort_values(ascending=missing_sort_last_when == "ascending").index.tolist()
    assert order[:2] == ([0, 2] if worse_when_higher else [2, 0])  # best real values first
    assert all(ui_style.is_sentinel(v) for v in shown.iloc[[1, 3, 4]])


def test_sentinels_stay_where_the_browser_grid_shows_their_labels():
    # Streamlit's grid marks numbers beyond ±2**53 invalid and then ignores the Styler's
    # text, which showed "-1e+300" instead of "not run" (seen in a browser screenshot).
    assert all(1e12 < value < 2**53 for value in ui_style.SENTINELS.values())
    assert len(set(ui_style.SENTINELS.values())) == len(ui_style.SENTINELS)


def test_table_csv_has_values_then_states():
    values = pd.DataFrame({"Model": ["a", "b"], "Overall": [0.5, None]})
    states = pd.DataFrame({"Overall": ["ok", "not_run"]})
    lines = ui_style.table_csv(values, states).decode().splitlines()
    assert lines == ["Model,Overall,Overall state", "a,0.5,ok", "b,,not_run"]
