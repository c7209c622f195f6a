"""Saved scoring profiles: named category weights, benchmark weights and metric thresholds.

A profile lives in the warehouse table ``scoring_profiles`` (migration 9). Any connection
scores under one with ``set variable mlpeg_profile = '<name>'``: the scoring views take
its weights and thresholds wherever the ``mlpeg_*`` variables set nothing (see
``sql/views/10_scores.sql``). Profiles travel as YAML, validated against
``mlpeg/schemas/profile.schema.yml`` and against the warehouse's own keys, so a misspelt
category or metric is an error, never a weight that silently does nothing.

ML-PEG's weight presets are built-in profiles, rewritten at every install; they cannot be
overwritten or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import yaml

from mlpeg.appdata.params import MetricOverride
from mlpeg.appdata.presets import PRESETS
from mlpeg.catalog import read_yaml as catalog_read_yaml
from mlpeg.catalog import validate_document
from mlpeg.errors import ConfigError, MlpegError

PROFILE_VARIABLE = "mlpeg_profile"


@dataclass(frozen=True)
class Profile:
    """One named scoring profile.

    Parameters
    ----------
    name
        The profile's name (its key in ``scoring_profiles``).
    description
        What the weighting is for.
    category_weights
        Category key -> weight in the overall score.
    unlisted_category_weight
        Weight of the categories not in ``category_weights``; ``None`` keeps category.yml's.
    benchmark_weights
        Benchmark key -> weight inside its category.
    metric_overrides
        New good/bad thresholds or weight per metric.
    is_builtin
        One of ML-PEG's presets (read-only).
    """

    name: str
    description: str = ""
    category_weights: dict[str, float] = field(default_factory=dict)
    unlisted_category_weight: float | None = None
    benchmark_weights: dict[str, float] = field(default_factory=dict)
    metric_overrides: tuple[MetricOverride, ...] = ()
    is_builtin: bool = False

    def category_weight(self, category_key: str, default: float) -> float:
        """Return this profile's weight of a category whose category.yml weight is ``default``."""
        if category_key in self.category_weights:
            return self.category_weights[category_key]
        if self.unlisted_category_weight is not None:
            return self.unlisted_category_weight
        return default

    def to_document(self) -> dict[str, Any]:
        """Return the profile as the YAML document ``from_document`` reads."""
        document: dict[str, Any] = {"name": self.name}
        if self.description:
            document["description"] = self.description
        if self.category_weights:
            document["category_weights"] = dict(sorted(self.category_weights.items()))
        if self.unlisted_category_weight is not None:
            document["unlisted_category_weight"] = self.unlisted_category_weight
        if self.benchmark_weights:
            document["benchmark_weights"] = dict(sorted(self.benchmark_weights.items()))
        thresholds: dict[str, dict[str, dict[str, float]]] = {}
        for override in self.metric_overrides:
            values = {
                name: value
                for name, value in (
                    ("good", override.good),
                    ("bad", override.bad),
                    ("weight", override.weight),
                )
                if value is not None
            }
            if values:
                thresholds.setdefault(override.benchmark_key, {})[override.metric_key] = values
        if thresholds:
            document["metric_thresholds"] = thresholds
        return document


def builtin_profiles() -> list[Profile]:
    """Return ML-PEG's weight presets as profiles: listed categories 1, all others 0."""
    return [
        Profile(
            name=name,
            description=f"ML-PEG's {name} preset: {len(keys)} categories weighted 1, others 0.",
            category_weights=dict.fromkeys(keys, 1.0),
            unlisted_category_weight=0.0,
            is_builtin=True,
        )
        for name, keys in PRESETS.items()
    ]


# -- YAML -------------------------------------------------------------------------------------


def from_document(document: Any, *, where: str) -> Profile:
    """Validate a parsed YAML document and return its profile.

    Raises
    ------
    ConfigError
        Naming ``where`` and the offending key.
    """
    validate_document(document, "profile", where=where)
    overrides = tuple(
        MetricOverride(
            benchmark_key,
            metric_key,
            _number(values.get("good")),
            _number(values.get("bad")),
            _number(values.get("weight")),
        )
        for benchmark_key, metrics in sorted((document.get("metric_thresholds") or {}).items())
        for metric_key, values in sorted(metrics.items())
    )
    return Profile(
        name=document["name"],
        description=document.get("description", ""),
        category_weights={
            str(k): float(v) for k, v in (document.get("category_weights") or {}).items()
        },
        unlisted_category_weight=_number(document.get("unlisted_category_weight")),
        benchmark_weights={
            str(k): float(v) for k, v in (document.get("benchmark_weights") or {}).items()
        },
        metric_overrides=overrides,
    )


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def read_yaml(path: Path, *, name: str | None = None) -> Profile:
    """Read and validate a profile file; ``name`` replaces the name it holds.

    Raises
    ------
    ConfigError
        On an unreadable file, invalid YAML or a schema violation (unknown keys included).
    """
    document = catalog_read_yaml(path)
    if name is not None and isinstance(document, dict):
        document = {**document, "name": name}
    return from_document(document, where=str(path))


def to_yaml(profile: Profile) -> str:
    """Return a profile as YAML text (what ``read_yaml`` reads back)."""
    return yaml.safe_dump(profile.to_document(), sort_keys=False, allow_unicode=True)


# -- the warehouse table ----------------------------------------------------------------------

_OVERRIDES_TYPE = (
    "struct(benchmark_key varchar, metric_key varchar, good double, bad double, weight double)[]"
)
_INSERT = f"""
insert or replace into scoring_profiles (
    profile_name, description, category_weights, unlisted_category_weight,
    benchmark_weights, metric_overrides, is_builtin, saved_at
) values (
    ?, ?, map(?::varchar[], ?::double[]), ?, map(?::varchar[], ?::double[]),
    ?::{_OVERRIDES_TYPE}, ?, current_timestamp
)
"""
_SELECT = """
select profile_name, description, category_weights, unlisted_category_weight,
    benchmark_weights, metric_overrides, is_builtin,
from scoring_profiles
"""


def _insert(con: duckdb.DuckDBPyConnection, profile: Profile) -> None:
    overrides = [
        {
            "benchmark_key": o.benchmark_key,
            "metric_key": o.metric_key,
            "good": o.good,
            "bad": o.bad,
            "weight": o.weight,
        }
        for o in profile.metric_overrides
    ]
    con.execute(
        _INSERT,
        [
            profile.name,
            profile.description,
            list(profile.category_weights),
            list(profile.category_weights.values()),
            profile.unlisted_category_weight,
            list(profile.benchmark_weights),
            list(profile.benchmark_weights.values()),
            overrides,
            profile.is_builtin,
        ],
    )


def _pairs(value: Any) -> dict[str, float]:
    """Return a DuckDB MAP as a dict (it arrives as a dict or a list of pairs)."""
    if not value:
        return {}
    if isinstance(value, dict):
        return {str(k): float(v) for k, v in value.items()}
    return {str(k): float(v) for k, v in value}


def from_row(row: dict[str, Any]) -> Profile:
    """Return the profile of one ``scoring_profiles`` row (as a dict of its columns)."""
    return Profile(
        name=row["profile_name"],
        description=row["description"] or "",
        category_weights=_pairs(row["category_weights"]),
        unlisted_category_weight=row["unlisted_category_weight"],
        benchmark_weights=_pairs(row["benchmark_weights"]),
        metric_overrides=tuple(
            MetricOverride(o["benchmark_key"], o["metric_key"], o["good"], o["bad"], o["weight"])
            for o in row["metric_overrides"] or []
        ),
        is_builtin=bool(row["is_builtin"]),
    )


def list_profiles(con: duckdb.DuckDBPyConnection) -> list[Profile]:
    """Return every saved profile: built-ins first, then the others by name."""
    cursor = con.cursor()
    try:
        relation = cursor.sql(_SELECT + " order by is_builtin desc, profile_name")
        columns = relation.columns
        return [from_row(dict(zip(columns, row, strict=True))) for row in relation.fetchall()]
    finally:
        cursor.close()


def get(con: duckdb.DuckDBPyConnection, name: str) -> Profile:
    """Return the profile called ``name``.

    Raises
    ------
    MlpegError
        If there is none, listing the names there are.
    """
    profiles = {profile.name: profile for profile in list_profiles(con)}
    if name not in profiles:
        known = ", ".join(profiles) or "none"
        raise MlpegError(f"No scoring profile named '{name}' in this warehouse (saved: {known}).")
    return profiles[name]


def check_keys(con: duckdb.DuckDBPyConnection, profile: Profile, *, where: str) -> None:
    """Raise unless every category, benchmark and metric the profile names exists.

    Raises
    ------
    ConfigError
        Naming ``where`` and the first unknown key.
    """
    categories = {row[0] for row in con.execute("select category_key from categories").fetchall()}
    benchmarks = {row[0] for row in con.execute("select benchmark_key from benchmarks").fetchall()}
    metrics = set(
        con.execute("select benchmark_key, metric_key from metric_definitions").fetchall()
    )
    for key in profile.category_weights:
        if key not in categories:
            raise ConfigError(f"{where}: at category_weights/{key}: no category '{key}'.")
    for key in profile.benchmark_weights:
        if key not in benchmarks:
            raise ConfigError(f"{where}: at benchmark_weights/{key}: no benchmark '{key}'.")
    for override in profile.metric_overrides:
        at = f"metric_thresholds/{override.benchmark_key}/{override.metric_key}"
        if override.benchmark_key not in benchmarks:
            raise ConfigError(f"{where}: at {at}: no benchmark '{override.benchmark_key}'.")
        if (override.benchmark_key, override.metric_key) not in metrics:
            raise ConfigError(
                f"{where}: at {at}: benchmark '{override.benchmark_key}' has no metric "
                f"'{override.metric_key}'."
            )


def _refuse_builtin(con: duckdb.DuckDBPyConnection, name: str, action: str) -> None:
    row = con.execute(
        "select is_builtin from scoring_profiles where profile_name = ?", [name]
    ).fetchone()
    if row is not None and row[0]:
        raise MlpegError(
            f"'{name}' is a built-in profile (ML-PEG's preset) and cannot be {action}; "
            "save yours under another name."
        )


def save(con: duckdb.DuckDBPyConnection, profile: Profile, *, where: str) -> bool:
    """Store a user profile (replacing one of the same name); return whether it replaced one.

    Raises
    ------
    ConfigError
        If it names an unknown category, benchmark or metric.
    MlpegError
        If its name is a built-in profile's.
    """
    check_keys(con, profile, where=where)
    _refuse_builtin(con, profile.name, "overwritten")
    existed = con.execute(
        "select count(*) from scoring_profiles where profile_name = ?", [profile.name]
    ).fetchone()[0]
    _insert(con, replace(profile, is_builtin=False))
    return bool(existed)


def delete(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Delete a user profile.

    Raises
    ------
    MlpegError
        If there is no such profile, or it is built in.
    """
    get(con, name)
    _refuse_builtin(con, name, "deleted")
    con.execute("delete from scoring_profiles where profile_name = ?", [name])


def sync_builtin(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the built-in profiles from :func:`builtin_profiles` (inside the install)."""
    con.execute("delete from scoring_profiles where is_builtin")
    for profile in builtin_profiles():
        _insert(con, profile)


def use(con: duckdb.DuckDBPyConnection, name: str) -> Profile:
    """Score every following query on ``con`` under profile ``name`` (``mlpeg_profile``).

    Raises
    ------
    MlpegError
        If there is no such profile.
    """
    profile = get(con, name)
    con.execute(f"set variable {PROFILE_VARIABLE} = ?", [name])
    return profile
