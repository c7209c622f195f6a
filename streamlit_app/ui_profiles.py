"""Scoring profiles in the app: choose one (Summary page) or open a URL that names one.

Choosing a profile sets the weight sliders and the metric thresholds to its values (the
user may move them further); the URL carries ``?profile=NAME`` on every page, so a shared
link opens with the same weighting. ML-PEG's presets are the built-in profiles.
"""

from __future__ import annotations

import streamlit as st
import ui_state

from mlpeg.appdata import insights
from mlpeg.profiles import Profile

PROFILE_KEY = "weight_preset"  # the Summary page's pills
APPLIED_KEY = "applied_profile"  # the profile whose values the sliders were last set to
URL_KEY = "profile"
DEFAULT = "Category defaults"


def saved() -> dict[str, Profile]:
    """Return the warehouse's profiles by name."""
    return insights.profiles(ui_state.store())


def apply(name: str) -> None:
    """Set every category and benchmark weight and every threshold to profile ``name``'s.

    ``DEFAULT`` (or an unknown name) sets them back to the YAML files' values.
    """
    profile = saved().get(name) or Profile(name=DEFAULT)
    for key, default in ui_state.default_category_weights().items():
        st.session_state[ui_state.CATEGORY_WEIGHT_PREFIX + key] = float(
            profile.category_weight(key, default)
        )
    for key, default in ui_state.default_benchmark_weights().items():
        weight = profile.benchmark_weights.get(key, default)
        st.session_state[ui_state.BENCHMARK_WEIGHT_PREFIX + key] = float(weight)
    overrides = ui_state.metric_overrides()
    overrides.clear()
    for override in profile.metric_overrides:
        values = {"good": override.good, "bad": override.bad, "weight": override.weight}
        overrides[(override.benchmark_key, override.metric_key)] = {
            field: value for field, value in values.items() if value is not None
        }
    # the benchmark page's threshold editor is keyed by this: a new key shows the new values
    st.session_state["editor_version"] = st.session_state.get("editor_version", 0) + 1
    st.session_state[APPLIED_KEY] = name
    if name == DEFAULT:
        st.query_params.pop(URL_KEY, None)
    else:
        st.query_params[URL_KEY] = name


def on_choice() -> None:
    """Apply the profile chosen in the pills (a cleared choice means the defaults)."""
    apply(st.session_state.get(PROFILE_KEY) or DEFAULT)


def follow_url() -> None:
    """Apply the profile named by ``?profile=`` when it is not the one applied (every page).

    An unknown name is reported once in the sidebar and dropped from the URL.
    """
    requested = st.query_params.get(URL_KEY)
    if requested is None:
        if st.session_state.get(APPLIED_KEY) not in (None, DEFAULT):
            st.query_params[URL_KEY] = st.session_state[APPLIED_KEY]  # keep it shareable
        return
    if requested == st.session_state.get(APPLIED_KEY):
        return
    if requested not in saved():
        st.sidebar.warning(f"No scoring profile named '{requested}' in this warehouse.")
        st.query_params.pop(URL_KEY, None)
        return
    apply(requested)
    st.session_state[PROFILE_KEY] = requested


def selector() -> None:
    """Draw the profile pills: the defaults, then every saved profile."""
    names = list(saved())
    if st.session_state.get(PROFILE_KEY) not in (None, DEFAULT, *names):
        st.session_state.pop(PROFILE_KEY, None)
    st.pills(
        "Scoring profile",
        [DEFAULT, *names],
        key=PROFILE_KEY,
        on_change=on_choice,
        persist_state="session",
        help="Saved weights and thresholds (mlpeg profile list). ML-PEG's presets weight the "
        "categories they cover 1 and the others 0. The page's URL carries the profile, so a "
        "link opens with the same weighting.",
    )
    applied = st.session_state.get(APPLIED_KEY)
    if applied not in (None, DEFAULT):
        profile = saved().get(applied)
        if profile is not None and profile.description:
            st.caption(profile.description)
