"""Session state of the app: the shared store, and the user's choices as ScoringParams.

Widgets keep their values across pages (``persist_state="session"``); this module turns
them into one :class:`~mlpeg.appdata.params.ScoringParams`, keeping only values that
differ from the warehouse defaults so that untouched pages share cached results.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from mlpeg.appdata import queries
from mlpeg.appdata.params import MetricOverride, ScoringParams
from mlpeg.appdata.store import AppStore
from mlpeg.paths import default_warehouse

EXCLUDED_KEY = "excluded_elements"
OVERRIDES_KEY = "metric_overrides"  # {(benchmark, metric): {"good", "bad", "weight"}}
CATEGORY_WEIGHT_PREFIX = "cw::"
BENCHMARK_WEIGHT_PREFIX = "bw::"


def warehouse_path() -> Path:
    """Return the warehouse the app reads (``MLPEG_WAREHOUSE`` or the default)."""
    return default_warehouse()


def _log_timing(label: str, seconds: float) -> None:
    """Append one line to ``MLPEG_APP_TIMINGS`` (JSON lines), if it is set."""
    target = os.environ.get("MLPEG_APP_TIMINGS")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"run": label, "seconds": seconds}) + "\n")


@st.cache_resource(show_spinner=False)
def _store(path: str, materialise: bool) -> AppStore:
    return AppStore(
        Path(path),
        materialise=materialise,
        precompute=materialise,
        on_precomputed=lambda _, seconds: _log_timing("precompute", seconds),
    )


def store() -> AppStore:
    """Return the process-wide store for this warehouse (one per server, shared)."""
    materialise = os.environ.get("MLPEG_APP_MATERIALISE", "1") != "0"
    return _store(str(warehouse_path()), materialise)


def sql_page_enabled() -> bool:
    """Return whether the SQL page is served (``mlpeg app --no-sql`` turns it off)."""
    return os.environ.get("MLPEG_APP_NO_SQL", "0") != "1"


def default_category_weights() -> dict[str, float]:
    """Return each category's weight from category.yml, as stored in the warehouse."""
    return {row["category_key"]: row["weight"] for row in queries.categories(store()).to_pylist()}


def default_benchmark_weights() -> dict[str, float]:
    """Return each benchmark's weight inside its category, as stored in the warehouse."""
    return {row["benchmark_key"]: row["weight"] for row in queries.benchmarks(store()).to_pylist()}


def _changed_weights(prefix: str, defaults: dict[str, float]) -> tuple[tuple[str, float], ...]:
    changed = []
    for key, default in defaults.items():
        value = st.session_state.get(prefix + key)
        if value is not None and abs(float(value) - float(default)) > 1e-12:
            changed.append((key, float(value)))
    return tuple(sorted(changed))


def metric_overrides() -> dict[tuple[str, str], dict[str, float]]:
    """Return the user's threshold and weight changes, keyed by (benchmark, metric)."""
    return st.session_state.setdefault(OVERRIDES_KEY, {})


def params() -> ScoringParams:
    """Return the user's current choices (element filter, weights, thresholds)."""
    overrides = tuple(
        MetricOverride(bench, metric, values.get("good"), values.get("bad"), values.get("weight"))
        for (bench, metric), values in sorted(metric_overrides().items())
        if values
    )
    return ScoringParams(
        excluded_elements=tuple(sorted(st.session_state.get(EXCLUDED_KEY) or ())),
        metric_overrides=overrides,
        benchmark_weights=_changed_weights(BENCHMARK_WEIGHT_PREFIX, default_benchmark_weights()),
        category_weights=_changed_weights(CATEGORY_WEIGHT_PREFIX, default_category_weights()),
    )


def url_choice(widget, label: str, options: list, *, key: str, **kwargs):
    """Draw a single-choice widget whose value follows ``?key=...`` in the URL.

    A page link with ``query_params`` (summary → category → benchmark) or a shared URL
    selects the option; choosing another option updates the URL. (Streamlit's own
    ``bind="query-params"`` reads the URL only on a full page load, not when a page link
    switches pages.)
    """
    requested = st.query_params.get(key)
    if st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    if requested in options and requested != st.session_state.get(key):
        st.session_state[key] = requested

    def follow() -> None:
        value = st.session_state.get(key)
        if value is None:
            st.query_params.pop(key, None)
        else:
            st.query_params[key] = value

    value = widget(label, options, key=key, on_change=follow, **kwargs)
    if value is not None and st.query_params.get(key) != value:
        st.query_params[key] = value
    return value


def weight_sliders(label: str, items: list[dict], *, key_field: str, prefix: str) -> None:
    """One slider per category or benchmark, three to a row, inside an expander.

    The sliders are drawn only while the expander is open; their values persist when it
    is closed (and across pages).

    Parameters
    ----------
    label
        The expander's title.
    items
        Rows with ``title``, ``weight``, an optional ``description`` and ``key_field``.
    key_field
        The column naming each item (``category_key`` or ``benchmark_key``).
    prefix
        Session-state prefix that :func:`params` reads the weights back from.
    """
    panel = st.expander(label, key=f"{prefix}panel", on_change="rerun")
    if not panel.open:  # drawn only when opened: 18 sliders cost the browser ~0.1 s a rerun
        return
    with panel:
        columns = st.columns(3)
        for index, item in enumerate(items):
            key = prefix + item[key_field]
            if key not in st.session_state:
                st.session_state[key] = float(item["weight"])
            with columns[index % 3]:
                st.slider(
                    item["title"],
                    min_value=0.0,
                    max_value=max(1.0, float(item["weight"])),
                    step=0.05,
                    key=key,
                    persist_state="session",
                    help=item.get("description") or None,
                )


_FULL_RUN = contextvars.ContextVar("mlpeg_full_run", default=False)


@contextlib.contextmanager
def timed_run(label: str) -> Iterator[None]:
    """Append a script run's duration to ``MLPEG_APP_TIMINGS`` (JSON lines), if it is set.

    bench/app.py reads the file to split an interaction's time between the server's script
    run and the rest (websocket, browser rendering). Fragments inside a timed run are not
    logged again.
    """
    outermost = not _FULL_RUN.get()
    token = _FULL_RUN.set(True)
    started = time.perf_counter()
    try:
        yield
    finally:
        _FULL_RUN.reset(token)
        if outermost:
            _log_timing(label, time.perf_counter() - started)


def fragment(func: Callable[..., Any]) -> Callable[..., Any]:
    """``st.fragment`` whose reruns on their own are timed like full runs (see timed_run)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        with timed_run(func.__name__):
            return func(*args, **kwargs)

    return st.fragment(run)
