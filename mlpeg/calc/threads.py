"""CPU threads per model process (``mlpeg calc --threads``).

PyTorch starts one intra-op thread per core. For the structures of most benchmarks (tens to
a few hundred atoms) a forward pass is too small to share between threads, and on a machine
whose cores are busy with anything else the threads wait on one another: the main job's
Al–Zn–Cu–Mg elastic tensors took 237 s of wall time for CHGNet with torch's two threads and
58 s with one, on the same shared two-core machine (2026-12-06). So a calc uses one thread
per model process unless told otherwise; ``--threads 0`` keeps torch's own choice (one per
core), which pays off for single structures of thousands of atoms on an idle machine.
"""

from __future__ import annotations

import os
import sys

from mlpeg.errors import MlpegError

#: Threads per model process when ``--threads`` is not given.
DEFAULT_THREADS = 1
#: The variables the BLAS/OpenMP runtimes of worker processes read at start.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def apply_threads(threads: int) -> None:
    """Use ``threads`` CPU threads in this process and in the workers it starts.

    Parameters
    ----------
    threads
        Threads per model process; 0 leaves the runtimes' own default (one per core).

    Raises
    ------
    MlpegError
        If ``threads`` is negative.
    """
    if threads < 0:
        raise MlpegError(f"--threads must be 0 (one per core) or a positive number, not {threads}.")
    if threads == 0:
        return
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    torch = sys.modules.get("torch")  # set now only if loaded; a later import reads the variables
    if torch is not None:
        torch.set_num_threads(threads)
