"""A stopped ``mlpeg`` leaves no process behind.

Python dies on SIGTERM without running ``finally`` blocks or ``atexit`` handlers, so the
processes a command started (the model worker of a calc with ``--timeout``, a local Ray's
services and actors) would outlive it. :func:`exit_on_sigterm` turns SIGTERM into
``SystemExit``, as Ctrl-C already is ``KeyboardInterrupt``, so the same clean-up runs for
both; :func:`die_with_parent` makes a worker process end with its parent even when the
parent is killed outright (SIGKILL, the out-of-memory killer).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from types import FrameType

#: Exit status of a process stopped by SIGTERM (the shell's 128 + signal number).
SIGTERM_STATUS = 128 + signal.SIGTERM


_received: list[int] = []


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise SystemExit(SIGTERM_STATUS)


def stopped_by_sigterm() -> bool:
    """Return whether SIGTERM arrived.

    A library may have turned the exit it raised into another one: Ray's waits re-raise
    an exception from a signal handler as ``KeyboardInterrupt``.
    """
    return bool(_received)


def exit_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` in the main thread (no-op elsewhere).

    Call it again after a library installs its own handler: ``ray.init`` installs one that
    logs a stack and aborts, skipping every clean-up.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_exit)


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to kill this process when ``parent_pid`` (its parent) ends; exit if it has.

    Elsewhere it does nothing: the worker then ends when its pipe to the parent closes.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)
