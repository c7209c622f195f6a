"""Compare the scores of two warehouses: every metric, benchmark, category and overall score.

    python bench/compare_scores.py OLD.duckdb NEW.duckdb [--rtol 1e-9]

Used when the code that builds the views changes but should not change what they compute
(a refactor): ingest the same landing parts with the old and the new code, then compare.
Besides the scores (leaderboard models only), every benchmark's metrics and its points
(counted and summed per model, quantity and state) are compared, test-only models included.
Prints the rows that differ (by key) and exits 1 if any do.
"""

from __future__ import annotations

import argparse
import sys

import duckdb
from rich.console import Console

console = Console()

#: View, its key columns and the value columns compared.
COMPARED = {
    "all_metrics": (["model_key", "benchmark_key", "metric_key"], ["value"]),
    "point_sums": (["model_key", "benchmark_key", "quantity", "state"], ["n", "pred", "ref"]),
    "metric_scores": (["model_key", "benchmark_key", "metric_key"], ["value", "score", "state"]),
    "benchmark_scores": (["model_key", "benchmark_key"], ["score", "state"]),
    "category_scores": (["model_key", "category_key"], ["score", "state"]),
    "overall_scores": (["model_key"], ["score", "state"]),
}


def source(side: str, view: str) -> str:
    """The relation of ``view`` in the attached warehouse ``side``."""
    return f"{side}_{view}" if view == "point_sums" else f"{side}.{view}"


def differences(old: str, new: str, rtol: float) -> dict[str, int]:
    """Count, per view, the rows whose keys or values differ between the two warehouses."""
    con = duckdb.connect()
    con.execute(f"attach '{old}' as old (read_only)")
    con.execute(f"attach '{new}' as new (read_only)")
    for side in ("old", "new"):  # points summed per (model, benchmark, quantity, state)
        con.execute(
            f"create temp view {side}_point_sums as select model_key, benchmark_key, quantity, "
            f"state, count(*) as n, sum(pred) as pred, sum(ref) as ref "
            f"from {side}.all_points group by all"
        )
    found = {}
    for view, (keys, values) in COMPARED.items():
        on = " and ".join(f"o.{k} is not distinct from n.{k}" for k in keys)
        differ = []
        for column in values:
            if column == "state":
                differ.append(f"o.{column} is distinct from n.{column}")
            else:
                differ.append(
                    f"(o.{column} is distinct from n.{column} and not "
                    f"abs(o.{column} - n.{column}) <= {rtol} * greatest(1.0, abs(o.{column})))"
                )
        rows = con.execute(
            f"select {', '.join(f'coalesce(o.{k}, n.{k}) as {k}' for k in keys)}, "
            f"{', '.join(f'o.{c} as old_{c}, n.{c} as new_{c}' for c in values)} "
            f"from {source('old', view)} o full join {source('new', view)} n on {on} "
            f"where o.{keys[0]} is null or n.{keys[0]} is null or {' or '.join(differ)}"
        ).fetchall()
        total = con.execute(f"select count(*) from {source('new', view)}").fetchone()[0]
        found[view] = len(rows)
        console.print(f"{view}: {total:,} rows, {len(rows)} differ")
        for row in rows[:10]:
            console.print(f"  {row}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rtol", type=float, default=1e-9)
    args = parser.parse_args()
    found = differences(args.old, args.new, args.rtol)
    sys.exit(1 if any(found.values()) else 0)


if __name__ == "__main__":
    main()
