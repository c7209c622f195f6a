"""Speed of the leaderboard app on a warehouse the size of ML-PEG.

    python bench/app.py [--models 50] [--rebuild] [--no-browser] [--no-baseline]
                        [--split-cores]

Builds (once, cached in bench/results/app/) a synthetic warehouse: every benchmark and
category of ML-PEG's catalogue (77 benchmarks, 339 metrics; bench/app_warehouse.py), 50
models, one benchmark with 2,000 systems, through the real ingest. Then measures

1. the query layer (mlpeg.appdata) the pages call, against the plain views as the
   baseline in the same run (``materialise=False``);
2. with chromium present, the real app in a browser (Playwright): first paint of the
   summary and the time from an interaction to the page being redrawn.

Issue 5's targets: first paint of the summary < 2 s, any interaction < 500 ms. Numbers
depend on the machine and its load (printed); ratios are measured / target. By default the
browser and the server share every core, as they do when both run here; with
``--split-cores`` the servers run on CPU 0 and chromium on CPU 1 (``taskset``), closer to a
visitor whose browser runs on their own machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import plotly.graph_objects as go
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import app_warehouse  # noqa: E402

from mlpeg import catalog  # noqa: E402
from mlpeg.appdata import figures, queries  # noqa: E402
from mlpeg.appdata.params import MetricOverride, ScoringParams  # noqa: E402
from mlpeg.appdata.store import AppStore  # noqa: E402
from mlpeg.models import registry  # noqa: E402

console = Console(width=None if sys.stdout.isatty() else 150)
FIRST_PAINT_S = 2.0
INTERACTION_S = 0.5
CHROMIUM = Path(os.environ.get("MLPEG_CHROMIUM", "/usr/bin/chromium"))


@dataclass
class Measurement:
    """One timed step."""

    what: str
    seconds: float
    target_s: float | None = None
    baseline_s: float | None = None
    note: str = ""
    server_s: float | None = None  # the app's own script runs during the step


def build(root: Path, spec: app_warehouse.SyntheticSpec, *, rebuild: bool) -> Path:
    """Build (or reuse) the synthetic warehouse under ``root``."""
    stamp = root / "spec.json"
    warehouse = root / "mlpeg.duckdb"
    os.environ["MLPEG_BENCHMARKS"] = str(root / "benchmarks")
    os.environ["MLPEG_MODELS"] = str(root / "models.yml")
    catalog.clear_cache()
    registry.clear_cache()
    if not rebuild and stamp.is_file() and json.loads(stamp.read_text()) == asdict(spec):
        console.print(f"Reusing the synthetic warehouse in {root}.")
        from mlpeg.warehouse.connect import writer

        with writer(warehouse):  # installs this checkout's views if they changed
            pass
        return warehouse
    import shutil

    from mlpeg.warehouse.connect import writer
    from mlpeg.warehouse.ingest import find_parts, ingest_parts

    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    categories, benchmarks = app_warehouse.read_catalogue()
    app_warehouse.write_catalogue(root / "benchmarks", categories, benchmarks)
    models = app_warehouse.write_models(root / "models.yml", spec.n_models)
    with console.status("writing landing parts"):
        app_warehouse.write_parts(root / "landing", models, spec, root / "benchmarks")
    parts = find_parts([root / "landing"])
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with writer(warehouse) as con, Progress(*columns, console=console) as progress:
        task = progress.add_task("ingest", total=len(parts))
        for result in ingest_parts(con, parts):
            if result.message and result.outcome == "rejected":
                raise SystemExit(result.message)
            progress.advance(task)
    stamp.write_text(json.dumps(asdict(spec)))
    return warehouse


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def query_layer(warehouse: Path, *, baseline: bool) -> list[Measurement]:
    """Time what the pages ask the store for, cold and cached, against the plain views."""
    out: list[Measurement] = []
    store = AppStore(warehouse)
    default = ScoringParams()
    seconds, _ = timed(lambda: store.prepare(default))
    out.append(
        Measurement(
            "server start: build the default scoring session",
            seconds,
            note="in the background when `mlpeg app` starts",
        )
    )

    def page_summary(params: ScoringParams) -> None:
        queries.categories(store)
        queries.leaderboard(store, params)

    seconds, _ = timed(lambda: page_summary(default))
    out.append(Measurement("summary queries, session built", seconds, INTERACTION_S))
    seconds, _ = timed(lambda: page_summary(default))
    out.append(Measurement("summary queries, cached", seconds, INTERACTION_S))
    weights = ScoringParams(category_weights=(("molecular", 0.3), ("surfaces", 0.0)))
    seconds, _ = timed(lambda: page_summary(weights))
    out.append(Measurement("change two category weights", seconds, INTERACTION_S))
    thresholds = ScoringParams(metric_overrides=(MetricOverride("X23", "MAE", bad=50.0),))
    seconds, _ = timed(lambda: page_summary(thresholds))
    out.append(Measurement("change a metric's bad threshold", seconds, INTERACTION_S))
    benchmarks = queries.benchmarks(store).to_pylist()
    big = queries.benchmark_info(store, benchmarks[0]["benchmark_key"])

    def page_benchmark(key: str) -> None:
        info = queries.benchmark_info(store, key)
        definitions = queries.metric_definitions(store, default, key).to_pylist()
        queries.metric_scores(store, default, key)
        queries.benchmark_totals(store, default, key)
        queries.level_of_theory(store, default, key)
        queries.points(store, default, info, quantity=definitions[0]["quantity"])

    seconds, _ = timed(lambda: page_benchmark("X23"))
    out.append(
        Measurement("open benchmark X23 (table, definitions, points)", seconds, INTERACTION_S)
    )
    x23_points = queries.points(store, default, queries.benchmark_info(store, "X23")).to_pandas()
    layout = figures.parity_figure(x23_points, unit="eV").to_dict()["layout"]

    def former_build() -> go.Figure:
        """The figure as the app built it before: a go.Scatter per model from pandas columns."""
        built = go.Figure(layout=layout)
        ok = x23_points[x23_points["state"] == "ok"]
        for model, group in ok.groupby("model_key"):
            built.add_trace(
                go.Scatter(
                    x=group["ref"],
                    y=group["pred"],
                    mode="markers",
                    name=model,
                    customdata=figures._marker_data(group),
                    hovertemplate=figures._HOVER,
                    marker={"size": 8, "opacity": 0.85, "line": {"width": 0.5, "color": "white"}},
                )
            )
        return built

    former_build()  # both timed warm: Plotly imports its validators on first use
    seconds, _ = timed(lambda: figures.parity_figure(x23_points, unit="eV"))
    checked_s, _ = timed(former_build)
    out.append(
        Measurement(
            f"parity figure, X23, {x23_points['model_key'].nunique()} models",
            seconds,
            INTERACTION_S,
            baseline_s=checked_s,
            note="baseline: a go.Scatter per model from pandas columns (the former build)",
        )
    )
    seconds, _ = timed(lambda: page_benchmark(big.key))
    out.append(Measurement(f"open benchmark {big.key} (100,000 points)", seconds, INTERACTION_S))
    elements = {
        row["element"]: row["n_structures"]
        for row in queries.element_counts(store, default).to_pylist()
    }
    # Element filters: first evaluated live (the baseline), then, on a fresh store, from
    # the single-element filters `mlpeg app` precomputes in the background at start.
    filters = [("Fe",), ("H",), ("Fe", "H")]
    live_s = {}
    for excluded in filters:
        live = AppStore(warehouse)  # nothing cached from the other filters
        live.prepare(default)
        live_s[excluded], _ = timed(
            lambda excluded=excluded, live=live: (
                queries.categories(live),
                queries.leaderboard(live, ScoringParams(excluded_elements=excluded)),
            )
        )
        live.close()
    fresh = AppStore(warehouse)
    fresh.prepare(default)
    seconds, n_done = timed(fresh.precompute_exclusions)
    out.append(
        Measurement(
            "server start: precompute every single-element filter",
            seconds,
            note=f"{n_done} benchmarks, in the background after the default session",
        )
    )
    for excluded in filters:
        params = ScoringParams(excluded_elements=excluded)
        seconds, _ = timed(
            lambda params=params: (queries.categories(fresh), queries.leaderboard(fresh, params))
        )
        held = sum(
            1
            for row in store.query(
                "select benchmark_key from benchmark_predictions group by 1 "
                "having list_has_any(flatten(list(elements)), ?::varchar[])",
                (excluded,),
            ).table.to_pylist()
        )
        sources = fresh.last_sources
        out.append(
            Measurement(
                f"exclude {' and '.join(excluded)} (in {held} of {len(benchmarks)} benchmarks)",
                seconds,
                INTERACTION_S,
                baseline_s=live_s[excluded],
                note=f"{sum(elements.get(e, 0) for e in excluded)} structures; "
                f"{sources['precomputed']} benchmarks precomputed, {sources['live']} live; "
                "baseline: all live",
            )
        )
    fresh.close()
    if baseline:
        plain = AppStore(warehouse, materialise=False)
        slow, _ = timed(lambda: queries.leaderboard(plain, default))
        out[1].baseline_s = slow
        out[1].note = "baseline: the plain views"
        slow, _ = timed(lambda: queries.leaderboard(plain, weights))
        out[3].baseline_s = slow
        out[3].note = "baseline: the plain views"
        plain.close()
    store.close()
    return out


# -- browser --------------------------------------------------------------------------------

RUN_COUNTER = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!window.__runs) {
        window.__runs = 0;
        new MutationObserver(() => {
            if (app.getAttribute('data-test-script-state') === 'notRunning') window.__runs++;
        }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
    }
    return window.__runs;
}"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TRIVIAL_APP = """
import streamlit as st
st.session_state.runs = st.session_state.get("runs", 0) + 1
st.title("baseline")
st.dataframe({"x": list(range(50))})
st.button("rerun")
st.caption(f"run {st.session_state.runs}")
"""

SETTLED = (
    "() => document.querySelector('[data-testid=\\\"stApp\\\"]')"
    ".getAttribute('data-test-script-state') === 'notRunning'"
)


@contextlib.contextmanager
def serve(command: list[str], env: dict[str, str], log_path: Path):
    """Run a Streamlit server until the block ends; yield its base URL."""
    port = _free_port()
    command = [*command, "--server.port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=5):
                        break
                except OSError:
                    if server.poll() is not None:
                        raise SystemExit(f"streamlit exited: see {log_path}") from None
                    time.sleep(0.3)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=60)


def browser(warehouse: Path, *, split_cores: bool = False) -> list[Measurement]:
    """Time first paint and interactions in chromium, and a trivial Streamlit app's."""
    from playwright.sync_api import sync_playwright

    from mlpeg.appdata.launch import app_environment, streamlit_command

    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    out: list[Measurement] = []
    timings = warehouse.parent / "script_runs.jsonl"
    timings.unlink(missing_ok=True)

    def logged() -> list[dict]:
        lines = timings.read_text().splitlines() if timings.is_file() else []
        return [json.loads(line) for line in lines]

    def script_seconds(since: int) -> tuple[float, int]:
        """Seconds of script runs logged after line ``since``, and the new line count."""
        lines = logged()
        runs = [line for line in lines[since:] if line["run"] != "precompute"]
        return sum(line["seconds"] for line in runs), len(lines)

    def wait_for_precompute(timeout_s: float = 300.0) -> float:
        """Wait until the server's background precompute has ended; return its seconds."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = [line for line in logged() if line["run"] == "precompute"]
            if done:
                return done[-1]["seconds"]
            time.sleep(0.2)
        raise SystemExit("the app's background precompute did not end")

    with sync_playwright() as playwright:
        executable = CHROMIUM
        server_prefix: list[str] = []
        if split_cores:
            executable = warehouse.parent / "chromium-cpu1.sh"
            executable.write_text(f'#!/bin/sh\nexec taskset -c 1 {CHROMIUM} "$@"\n')
            executable.chmod(0o755)
            server_prefix = ["taskset", "-c", "0"]
        chrome = playwright.chromium.launch(executable_path=str(executable), args=args)

        def open_page(base: str, label: str | None, target: float | None, note: str = ""):
            page = chrome.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            start = time.perf_counter()
            page.goto(base + "/")
            page.locator('[data-testid="stDataFrame"]').first.wait_for()
            page.wait_for_function(SETTLED)
            seconds = time.perf_counter() - start
            if label:
                out.append(Measurement(label, seconds, target, note=note))
            page.evaluate(RUN_COUNTER)
            return page, seconds

        def interaction(page, label: str | None, action, *, attempts: int = 1) -> float:
            for attempt in range(1, attempts + 1):
                before = page.evaluate(RUN_COUNTER)
                _, logged = script_seconds(0)
                start = time.perf_counter()
                try:
                    action()
                    timeout = 15_000 if attempt < attempts else 180_000
                    page.wait_for_function(f"() => window.__runs > {before}", timeout=timeout)
                    break
                except Exception:
                    page.screenshot(path=warehouse.parent / "failed-step.png")
                    if attempt == attempts:
                        raise
            seconds = time.perf_counter() - start
            if label:
                time.sleep(0.2)  # the timing line is written as the script run ends
                server, _ = script_seconds(logged)
                note = "" if attempt == 1 else f"attempt {attempt}: earlier clicks got no rerun"
                out.append(Measurement(label, seconds, INTERACTION_S, server_s=server, note=note))
            return seconds

        # Baseline: a trivial Streamlit app (a title, a 50-row table, a button).
        script = warehouse.parent / "trivial_app.py"
        script.write_text(TRIVIAL_APP)
        trivial = [
            *server_prefix,
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        with serve(trivial, dict(os.environ), warehouse.parent / "trivial.log") as base:
            open_page(base, None, None)  # the browser caches Streamlit's own files
            page, trivial_paint = open_page(base, None, None)
            button = page.get_by_role("button", name="rerun")

            def rerun_trivial() -> float:
                # Its rerun can be too quick for the script-state attribute to change, so
                # wait for the run counter it prints instead.
                caption = page.get_by_text("run ", exact=False).last
                before = caption.inner_text()
                start = time.perf_counter()
                button.click()
                page.wait_for_function(
                    "(before) => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                    ".some(e => e.innerText.startsWith('run ') && e.innerText !== before)",
                    arg=before,
                )
                return time.perf_counter() - start

            trivial_rerun = min(rerun_trivial() for _ in range(3))

        command = [*server_prefix, *streamlit_command(port=None, host="127.0.0.1")]
        env = app_environment(warehouse, sql_page=True)
        env["MLPEG_APP_TIMINGS"] = str(timings)
        with serve(command, env, warehouse.parent / "streamlit.log") as base:
            open_page(
                base,
                "summary first paint, server just started",
                None,
                "waits for the default scoring session",
            )
            out.append(
                Measurement(
                    "server start: single-element filters precomputed",
                    wait_for_precompute(),
                    note="in the background; the steps below start after it",
                )
            )
            page, _ = open_page(base, "summary first paint, new session", FIRST_PAINT_S)
            out[-1].baseline_s = trivial_paint
            out[-1].note = "baseline: a trivial Streamlit app"
            start = len(out)
            interaction(
                page,
                "browser: apply the Materials weight preset",
                lambda: page.get_by_role("radio", name="Materials", exact=True).click(),
            )
            page.locator('[data-testid="stExpander"] summary').first.click()
            slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
            slider.wait_for()
            interaction(
                page,
                "browser: move a category weight slider",
                lambda: (slider.focus(), slider.press("ArrowRight")),
            )
            interaction(
                page,
                "browser: open a category page",
                lambda: (
                    page.get_by_role("link").filter(has_text="Molecular Crystals").first.click()
                ),
            )
            interaction(
                page,
                "browser: open benchmark X23",
                lambda: page.get_by_role("link").filter(has_text="X23 —").first.click(),
            )
            interaction(
                page,
                "browser: choose metric MAE (scatter)",
                lambda: page.get_by_role("radio", name="MAE", exact=True).click(),
            )
            point = page.locator(".js-plotly-plot .scatterlayer path.point").first
            point.wait_for()
            page.wait_for_function(SETTLED)
            time.sleep(0.5)  # let Plotly attach its click handlers
            interaction(
                page,
                "browser: click a point (3D structure)",
                lambda: point.click(force=True),
                attempts=3,
            )
            for row in out[start:]:
                row.baseline_s = trivial_rerun
                row.note = "; ".join(
                    part for part in (row.note, "baseline: a trivial Streamlit app's rerun") if part
                )
        chrome.close()
    return out


def report(rows: list[Measurement], path: Path) -> None:
    """Print the table and save it as JSON."""
    table = Table(title="mlpeg app speed (synthetic ML-PEG-size warehouse)", header_style="bold")
    columns = ("step", "ms", "target", "ratio", "script ms", "baseline ms", "÷ baseline", "note")
    for column in columns:
        table.add_column(column, justify="right" if column not in ("step", "note") else "left")
    for row in rows:
        ratio = row.seconds / row.target_s if row.target_s else None
        mark = "" if ratio is None else ("[green]" if ratio <= 1 else "[red]")
        table.add_row(
            row.what,
            f"{row.seconds * 1000:,.0f}",
            f"< {row.target_s * 1000:,.0f}" if row.target_s else "–",
            f"{mark}{ratio:.2f}" if ratio is not None else "–",
            f"{row.server_s * 1000:,.0f}" if row.server_s is not None else "–",
            f"{row.baseline_s * 1000:,.0f}" if row.baseline_s else "–",
            f"{row.seconds / row.baseline_s:,.2f}" if row.baseline_s else "–",
            row.note,
        )
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min)."
    )
    path.write_text(json.dumps({"load": load, "rows": [asdict(r) for r in rows]}, indent=2))
    console.print(f"Saved {path}.")


def main() -> None:
    """Build the warehouse if needed and run every measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "app")
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--systems", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--split-cores", action="store_true", help="server on CPU 0, chromium on CPU 1"
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    spec = app_warehouse.SyntheticSpec(n_models=args.models, n_systems=args.systems)
    warehouse = build(args.out / "warehouse", spec, rebuild=args.rebuild)
    if args.build_only:
        return
    rows = query_layer(warehouse, baseline=not args.no_baseline)
    if not args.no_browser and CHROMIUM.is_file():
        rows += browser(warehouse, split_cores=args.split_cores)
    elif not args.no_browser:
        console.print(f"No chromium at {CHROMIUM}: browser timings skipped.")
    report(rows, args.out / ("app-split-cores.json" if args.split_cores else "app.json"))


if __name__ == "__main__":
    main()
