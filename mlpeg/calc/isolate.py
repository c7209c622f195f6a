"""Run a model in a child process, so a task that hangs or kills its process is recorded.

With a per-task timeout the engine cannot stop a computation stuck inside compiled code
from the same process, so the model lives in a worker process (a fresh interpreter
running :mod:`mlpeg.calc.worker`, so no torch state is shared) that loads it once and
evaluates groups of tasks sent over a socket. The interpreter is this one, or that of the
model's own environment (:mod:`mlpeg.models.environments`), whose packages may conflict
with this one's: the two processes exchange only pickled tasks and plain rows.

A group that outlasts its time (timeout × its size), or a worker that dies (a segfault,
the out-of-memory killer), stops the worker; a group of several tasks is then redone one
task at a time in a fresh worker, and the single task that still times out or kills its
worker becomes a failed row. The parent writes every row, so nothing written
is lost when the model process dies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from mlpeg.calc.execute import Evaluator, RunContext, failed_row
from mlpeg.calc.tasks import Task
from mlpeg.stopping import die_with_parent

#: Seconds a worker may take to start and build its model.
LOAD_TIMEOUT_S = 900.0


class WorkerLost(Exception):
    """The worker did not answer in time, or died; ``reason`` says which."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def serve_connection(connection: Connection, options: dict[str, Any], parent_pid: int) -> None:
    """Worker process: build the evaluator, then answer groups of tasks until told to stop."""
    die_with_parent(parent_pid)  # a parent killed outright takes its model process along
    evaluator = Evaluator(**options)
    evaluator.load()
    connection.send(("ready", evaluator.batched))
    while True:
        message = connection.recv()
        if message is None:
            return
        tasks, context = message
        rows = [row for group in evaluator.rows(tasks, context) for row in group]
        connection.send(("rows", rows))


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _descriptor(stream: Any) -> int | None:
    """Return the stream's file descriptor, or None (inherit) when it has none."""
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # pytest's capture, a closed stream
        return None


class IsolatedEvaluator:
    """An :class:`Evaluator` in a worker process, with a per-task timeout.

    Parameters
    ----------
    timeout
        Seconds one task may take; None waits forever (the worker still isolates crashes).
    python
        The worker's interpreter: another environment's, or None for this one.
    **options
        Passed to :class:`Evaluator` in the worker.
    """

    def __init__(self, *, timeout: float | None, python: str | None = None, **options: Any):
        self.timeout = timeout
        self.python = python
        self.options = options
        self._process: subprocess.Popen | None = None
        self._connection: Connection | None = None
        self.batch_size = options.get("batch_size", 1)
        #: How many worker processes were started (1 + restarts after losses).
        self.starts = 0
        self._batched = False

    def _start(self) -> None:
        from mlpeg.models.environments import worker_command, worker_environ

        self.starts += 1
        parent, child = socket.socketpair()
        with parent, child:
            self._process = subprocess.Popen(
                worker_command(self.python or sys.executable, "serve", str(child.fileno())),
                pass_fds=(child.fileno(),),
                env=worker_environ(isolated=self.python is not None),
                # inside a calc these are the chatter log: a model library's warnings
                # printed by the worker land there too, not across the progress bars
                stdout=_descriptor(sys.stdout),
                stderr=_descriptor(sys.stderr),
            )
            self._connection = Connection(parent.detach())
        self._connection.send((self.options, os.getpid()))
        self._batched = bool(self._receive(LOAD_TIMEOUT_S, "building the model"))

    def _exit_code(self) -> int | None:
        """Wait a little for the worker to end and return its exit code (None: running)."""
        assert self._process is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)
        return self._process.returncode

    def _receive(self, seconds: float | None, what: str) -> Any:
        assert self._connection is not None
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            wait = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            try:
                if self._connection.poll(max(wait, 0.0)):
                    return self._connection.recv()[1]
            except (EOFError, OSError):
                code = self._exit_code()
                self.stop()
                raise WorkerLost(
                    f"model process died while {what} ({_describe_exit(code)})"
                ) from None
            if self._process.poll() is not None:
                code = self._exit_code()
                self.stop()
                raise WorkerLost(f"model process died while {what} ({_describe_exit(code)})")
            if deadline is not None and time.monotonic() >= deadline:
                self.stop()
                raise WorkerLost(f"timed out after {seconds:g} s while {what}")

    def stop(self) -> None:
        """Stop the worker (politely, then by force)."""
        if self._process is None:
            return
        if self._connection is not None:
            try:
                if self._process.poll() is None:
                    self._connection.send(None)
            except (OSError, BrokenPipeError):
                pass
            self._connection.close()
        try:
            self._process.wait(2)
        except subprocess.TimeoutExpired:
            self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
        self._process = None
        self._connection = None

    def _evaluate(self, tasks: list[Task], context: RunContext) -> list[dict]:
        if self._process is None:
            self._start()
        assert self._connection is not None
        self._connection.send((tasks, context))
        seconds = None if self.timeout is None else self.timeout * len(tasks)
        what = "computing" if len(tasks) > 1 else f"computing {tasks[0].system}/{tasks[0].role}"
        return self._receive(seconds, what)

    def groups(self, tasks: Sequence[Task]) -> list[list[Task]]:
        """Split tasks into groups sent to the worker together (batches if it batches)."""
        size = max(1, self.batch_size) if self._batched else 1
        return [list(tasks[i : i + size]) for i in range(0, len(tasks), size)]

    def rows(self, tasks: Sequence[Task], context: RunContext) -> Iterator[list[dict]]:
        """Yield rows group by group; a lost worker turns its single task into a failed row."""
        if self._process is None and tasks:
            with contextlib.suppress(WorkerLost):  # the first group retries and records it
                self._start()
        for group in self.groups(tasks):
            start = time.perf_counter()
            try:
                yield self._evaluate(group, context)
                continue
            except WorkerLost as lost:
                if len(group) == 1:
                    yield [failed_row(group[0], context, lost.reason, time.perf_counter() - start)]
                    continue
            for task in group:  # find which task of the group was at fault
                start = time.perf_counter()
                try:
                    yield self._evaluate([task], context)
                except WorkerLost as lost:
                    yield [failed_row(task, context, lost.reason, time.perf_counter() - start)]

    def close(self) -> None:
        """Stop the worker."""
        self.stop()
