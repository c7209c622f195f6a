"""The mlpeg leaderboard: ``mlpeg app`` (or ``streamlit run streamlit_app/app.py``).

Every page reads the warehouse read-only through :mod:`mlpeg.appdata`; scores come from
the SQL views, with the user's weights, thresholds and element filter passed as SQL
variables.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime

import streamlit as st
import ui_profiles
import ui_state
from ase.data import chemical_symbols

from mlpeg.errors import MlpegError


def _favicon():
    """Draw the tab icon here: a material or emoji page icon is fetched from the internet."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (32, 32), "#5cb87a")
    draw = ImageDraw.Draw(image)
    for x, height in ((5, 10), (13, 18), (21, 26)):
        draw.rectangle((x, 30 - height, x + 6, 30), fill="#1b5e20")
    return image


st.set_page_config(page_title="mlpeg leaderboard", page_icon=_favicon(), layout="wide")


@st.cache_resource(show_spinner=False)
def _warm_up(path: str) -> threading.Thread:
    """Materialise the default scoring session in the background, once per server."""
    store = ui_state.store()

    def prepare() -> None:
        with contextlib.suppress(MlpegError):  # the page that needs it reports the problem
            store.prepare()

    thread = threading.Thread(target=prepare, name="mlpeg-warm-up", daemon=True)
    thread.start()
    return thread


def sidebar() -> None:
    """Element filter and warehouse status, on every page."""
    with st.sidebar:
        st.multiselect(
            "Exclude elements",
            options=chemical_symbols[1:],
            key=ui_state.EXCLUDED_KEY,
            help="Points whose structures contain any of these elements are filtered out of "
            "every score. The Elements page has a periodic table.",
            placeholder="none",
        )
        store = ui_state.store()
        try:
            target = store.read_file()
            changed = datetime.fromtimestamp(target.stat().st_mtime, tz=UTC)
            st.caption(f"Warehouse `{store.path}` · data of {changed:%Y-%m-%d %H:%M} UTC")
        except OSError:
            st.caption(f"Warehouse `{store.path}`")


PAGES = [
    st.Page(
        "app_pages/summary.py",
        title="Summary",
        icon=":material/leaderboard:",
        url_path="summary",
        default=True,
    ),
    st.Page(
        "app_pages/category.py", title="Category", icon=":material/category:", url_path="category"
    ),
    st.Page(
        "app_pages/benchmark.py",
        title="Benchmark",
        icon=":material/scatter_plot:",
        url_path="benchmark",
    ),
    st.Page(
        "app_pages/elements.py", title="Elements", icon=":material/science:", url_path="elements"
    ),
    st.Page("app_pages/speed.py", title="Speed", icon=":material/speed:", url_path="speed"),
    st.Page(
        "app_pages/element_errors.py",
        title="Element errors",
        icon=":material/grid_on:",
        url_path="element-errors",
    ),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:", url_path="compare"),
    st.Page("app_pages/models.py", title="Models", icon=":material/memory:", url_path="models"),
    st.Page("app_pages/history.py", title="History", icon=":material/history:", url_path="history"),
]
if ui_state.sql_page_enabled():
    PAGES.append(
        st.Page("app_pages/sql.py", title="SQL", icon=":material/database:", url_path="sql")
    )


page = st.navigation(PAGES)
with ui_state.timed_run(page.title):
    _warm_up(str(ui_state.warehouse_path()))
    sidebar()
    try:
        ui_profiles.follow_url()
        page.run()
    except MlpegError as exc:
        st.error(str(exc))
