"""The library's child processes. The one process pool: ``prepare`` (a video per task,
Sect. 3.3) and ``synth`` (a synthetic video per task) run their tasks with :func:`each`. And
:func:`end`, how a server the library started is stopped.

Processes are started with ``spawn``, safe whatever the parent has loaded (threads,
TensorFlow). On Ctrl-C or a failed task the queued tasks are cancelled and the workers ended at
once: the caller's outputs are moved into place only when whole, so a rerun finds nothing half
written, and does not have to wait for the rest of the queue first (issue 20).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context


def each(fn: Callable, tasks: Iterable[tuple], workers: int) -> Iterator[tuple[int, object]]:
    """``(i, fn(*tasks[i]))`` for every task, in the order they finish, over ``workers``
    processes (at most one per task)."""
    tasks = list(tasks)
    pool = ProcessPoolExecutor(max_workers=max(1, min(workers, len(tasks))), mp_context=get_context("spawn"))
    try:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        stop(pool)
        raise
    pool.shutdown()


def stop(pool: ProcessPoolExecutor) -> None:
    """Cancel the queued tasks and end the workers now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # no public handle on them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)


def end(proc, timeout: float = 10.0) -> None:
    """End a server the library started (``subprocess.Popen``: the warm ``affwild``, a test's
    JupyterLab): SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
