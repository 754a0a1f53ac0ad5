"""The local engine of :func:`m2p.batch` (``engine="local"``): a pool of worker processes on
this machine, sized to its cores.

Each worker loads the model once (:func:`m2p.library.job.init_worker`, one torch thread each:
the pool gives the parallelism, and results do not depend on the thread count) and streams
each file (:func:`m2p.library.job.analyse_file`), so memory does not grow with a file's length;
at most two files per worker are in flight.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from m2p.library.job import Job, analyse_file, init_worker

__all__ = ["run_local"]

_TRACKER_QUIET = "ignore:resource_tracker:UserWarning"


def run_local(todo: Sequence[tuple[str, str | None]], job: Job, *, workers: int,
              sink: Callable[[dict[str, Any]], None]) -> None:
    """Analyse ``(path, digest)`` pairs in a pool of ``workers`` processes, handing each row to
    ``sink`` as it finishes. At most two files per worker are in flight (bounded memory)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: a forked torch (OpenMP threads, a CUDA context) is unsafe.
    context = multiprocessing.get_context("spawn")
    # multiprocessing's resource tracker (started with the pool) would print "There appear to
    # be N leaked semaphore objects" after a kill -9 of this process: not the user's concern.
    if _TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_QUIET)
    pending = iter(todo)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                               initargs=(job,))
    running: set = set()
    try:
        while True:
            for path, digest in pending:
                running.add(pool.submit(analyse_file, job, path, digest))
                if len(running) >= 2 * workers:
                    break
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                sink(future.result())
    except BaseException:
        # Ctrl-C, SIGTERM, an error: stop now, not after the files in flight (a pool's own
        # exit waits for them); the rows already handed on are journaled by the caller.
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def _stop(pool: Any) -> None:
    """Cancel what waits, end the workers, reap them."""
    # No public handle on the workers; taken before shutdown, which may drop the mapping.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)
