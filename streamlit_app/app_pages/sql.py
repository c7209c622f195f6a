"""SQL: read-only queries on the warehouse with a row limit and a time limit."""

from __future__ import annotations

import io

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import streamlit as st
import ui_state

from mlpeg.appdata import sqlpage


def _load_example() -> None:
    name = st.session_state.get("sql_example")
    if name in sqlpage.EXAMPLES:
        st.session_state["sql_text"] = sqlpage.EXAMPLES[name]


def main() -> None:
    """Draw the SQL page."""
    st.title("SQL")
    st.caption(
        "One read-only query at a time on the warehouse (DuckDB). Writes, ATTACH, COPY, "
        "INSTALL/LOAD and reading files are refused. Try `select * from leaderboard`."
    )
    st.selectbox(
        "Examples",
        list(sqlpage.EXAMPLES),
        index=None,
        key="sql_example",
        on_change=_load_example,
        placeholder="choose an example query",
    )
    if "sql_text" not in st.session_state:
        st.session_state["sql_text"] = sqlpage.EXAMPLES["Leaderboard"]
    sql = st.text_area("Query", key="sql_text", height=160)
    left, middle, _ = st.columns([1, 1, 2])
    max_rows = left.number_input("Row limit", 1, 100_000, 1000, step=100, key="sql_rows")
    timeout = middle.number_input("Time limit [s]", 1, 120, 10, key="sql_timeout")
    if st.button("Run", type="primary", key="sql_run"):
        st.session_state.pop("sql_outcome", None)
        try:
            result = sqlpage.run_query(
                ui_state.store(), sql, max_rows=int(max_rows), timeout_s=float(timeout)
            )
        except (sqlpage.QueryRefused, sqlpage.QueryFailed) as exc:
            st.session_state["sql_outcome"] = str(exc)
        else:
            st.session_state["sql_outcome"] = result
    outcome = st.session_state.get("sql_outcome")
    if isinstance(outcome, str):
        st.error(outcome)
    elif outcome is not None:
        show_result(outcome, int(max_rows))


def show_result(result: sqlpage.PageResult, max_rows: int) -> None:
    """Show a query's rows with CSV and Parquet downloads."""
    table = result.table
    note = f"{table.num_rows:,} rows in {result.seconds * 1000:.0f} ms"
    if result.truncated:
        note += f" (cut at the row limit of {max_rows:,})"
    st.caption(note)
    st.dataframe(table.to_pandas(), hide_index=True, key="sql_result")
    csv = io.BytesIO()
    pacsv.write_csv(table, csv)
    parquet = io.BytesIO()
    pq.write_table(table, parquet)
    left, right, _ = st.columns([1, 1, 4])
    left.download_button(
        "Download CSV", csv.getvalue(), file_name="query.csv", mime="text/csv", on_click="ignore"
    )
    right.download_button(
        "Download Parquet",
        parquet.getvalue(),
        file_name="query.parquet",
        mime="application/vnd.apache.parquet",
        on_click="ignore",
    )


main()
