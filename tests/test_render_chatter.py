"""Terminal output: the leaderboard table and the log that keeps library chatter."""

from __future__ import annotations

import sys
import warnings

import pyarrow as pa
from rich.console import Console

from mlpeg.chatter import captured_chatter
from mlpeg.render import leaderboard_table


def _render(table) -> str:
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text()


def test_categories_nobody_ran_move_from_columns_to_the_caption():
    result = pa.table(
        {
            "model_key": ["m1", "m2"],
            "overall": [0.5, None],
            "state": ["ok", "failed"],
            "mol": [0.5, None],
            "mol__state": ["ok", "failed"],
            "surf": [None, None],
            "surf__state": ["not_run", "not_run"],
        }
    )
    categories = {"mol": "Molecular", "surf": "Surfaces"}
    text = _render(leaderboard_table(result, categories, "LB", weights={"mol": 0.0, "surf": 1}))
    header = text.split("┡")[0]  # the header rows, above the rule
    assert "Molecular" in header and "Surfaces" not in header
    assert "weight 0" in text and "weight 1" not in text  # only shown columns carry one
    assert "Not run by any model: Surfaces" in text
    assert "0.500" in text and "failed" in text  # a failure is shown, not hidden


def test_prints_and_warnings_go_to_the_log_not_the_terminal(tmp_path, capsys):
    with captured_chatter(tmp_path) as log:
        print("CHGNet v0.3.0 initialized with 412,525 parameters")
        print("isolated atom", file=sys.stderr)
        warnings.warn("weights_only forced", UserWarning, stacklevel=1)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    text = log.path.read_text()
    assert "initialized with 412,525" in text and "isolated atom" in text
    assert "UserWarning: weights_only forced" in text
    assert log.n_lines == text.count("\n") >= 3
    assert str(log.path) in log.summary() and log.summary().startswith(f"{log.n_lines} lines")


def test_a_quiet_run_leaves_no_log(tmp_path):
    with captured_chatter(tmp_path) as log:
        pass
    assert not log.path.exists() and log.summary() == ""


def test_the_captured_streams_are_real_files_for_code_that_asks(tmp_path):
    """ray.init runs faulthandler.enable() on sys.stderr: it needs a real descriptor."""
    import faulthandler
    import os

    was_enabled = faulthandler.is_enabled()
    try:
        with captured_chatter(tmp_path) as log:
            faulthandler.enable()  # what ray.init does; raised AttributeError before
            os.write(sys.stderr.fileno(), b"written below Python\n")
            sys.stderr.flush()
            assert sys.stdout.fileno() == sys.stderr.fileno() != 2
            assert sys.stderr.writable() and not sys.stderr.isatty()
        assert faulthandler.is_enabled()  # pointed back at the real stderr, not the log
        assert "written below Python" in log.path.read_text()  # kept, though not counted
    finally:
        if not was_enabled:
            faulthandler.disable()
