"""Round-robin timing: one call of each task per round, so drift hits all alike."""

import time

import numpy as np


def interleaved_times(tasks, rounds, on_round=None):
    """Wall-clock seconds of each task over `rounds` rounds of one call each.

    Round `r` starts with task `r mod n` and goes round, so no task always runs
    first (after a pause) or last.

    Args:
        tasks: list of zero-argument callables; each must return only when its
            work is finished (synchronise on the result).
        rounds: number of rounds.
        on_round: optional `on_round(done, rounds)` called after each round (progress).

    Returns:
        `(rounds, len(tasks))` float array; row `r` holds round `r`'s times in task order.
    """
    count = len(tasks)
    times = np.zeros((rounds, count))
    for r in range(rounds):
        for k in range(count):
            index = (r + k) % count
            start = time.perf_counter()
            tasks[index]()
            times[r, index] = time.perf_counter() - start
        if on_round is not None:
            on_round(r + 1, rounds)
    return times


def paired_ratios(times, reference=0):
    """Median over rounds of each task's time divided by the reference's in that round.

    Pairing within a round cancels drift that is slow next to one round.

    Args:
        times: `(rounds, tasks)` array from `interleaved_times`.
        reference: column of the reference task.

    Returns:
        `(tasks,)` array; the reference's entry is exactly 1.0.
    """
    ratios = np.median(times / times[:, reference : reference + 1], axis=0)
    ratios[reference] = 1.0
    return ratios
