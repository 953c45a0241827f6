"""Map a function over tasks in worker processes, in order, or in this process."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor


def ordered_map(function, tasks, workers=1):
    """Yield `function(task)` for each task, in task order.

    Args:
        function: a picklable (module-level) function of one argument.
        tasks: a sequence of picklable arguments.
        workers: processes to use; 1 runs in this process. Workers are forked where the
            platform can (cheap start-up, nothing re-imported): call with 1 from a
            process that already runs threaded libraries, such as a Keras backend.
    """
    workers = min(workers, len(tasks))
    if workers <= 1:
        yield from map(function, tasks)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    # Small chunks keep the workers busy until the end (about 32 chunks each).
    chunk = max(1, min(32, len(tasks) // (32 * workers)))
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
    try:
        yield from pool.map(function, tasks, chunksize=chunk)
    finally:
        pool.shutdown(cancel_futures=True)  # after an early exit, start no further task


def default_workers():
    """Worker processes to use: the CPUs available to this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
