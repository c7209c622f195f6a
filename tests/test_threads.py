"""``mlpeg calc --threads``: one CPU thread per model process unless told otherwise."""

from __future__ import annotations

import os

import pytest
import torch
from typer.testing import CliRunner

from mlpeg.calc.threads import THREAD_VARIABLES, apply_threads
from mlpeg.cli import app
from mlpeg.errors import MlpegError


@pytest.fixture
def torch_threads(monkeypatch: pytest.MonkeyPatch):
    """Put torch's thread count and the OpenMP variables back after the test."""
    before = torch.get_num_threads()
    for name in THREAD_VARIABLES:
        monkeypatch.setenv(name, "7")  # recorded, so undone after the test
    yield
    torch.set_num_threads(before)


def test_threads_reach_torch_and_the_variables_workers_read(torch_threads):
    apply_threads(1)
    assert torch.get_num_threads() == 1
    assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)


def test_zero_keeps_the_runtimes_own_choice(torch_threads):
    torch.set_num_threads(2)
    apply_threads(0)
    assert torch.get_num_threads() == 2
    assert os.environ["OMP_NUM_THREADS"] == "7"


def test_negative_threads_is_one_clear_error(torch_threads):
    with pytest.raises(MlpegError, match="--threads must be 0"):
        apply_threads(-2)
    result = CliRunner().invoke(app, ["calc", "-b", "S22", "-m", "mock", "--threads", "-1"])
    assert isinstance(result.exception, MlpegError)  # main() prints it as one line
    assert "not -1" in str(result.exception)
