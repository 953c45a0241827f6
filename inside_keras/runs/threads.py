"""Environment variables that limit a process's compute threads on every Keras backend.

Read by each backend when it starts, so they must be in the environment of a new
process (a training job, a Ray worker) before Keras is imported there.
"""

#: Thread-count variables of OpenMP (PyTorch) and TensorFlow.
THREAD_LIMIT_VARIABLES = ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


def thread_limits(threads, xla_flags=None):
    """`{variable: value}` limiting a process to `threads` CPU threads.

    Args:
        threads: threads allowed.
        xla_flags: `XLA_FLAGS` already set for the process, kept in front of ours.
    """
    limits = {name: str(threads) for name in THREAD_LIMIT_VARIABLES}
    limits["XLA_FLAGS"] = " ".join(
        filter(
            None,
            [
                xla_flags,
                "--xla_cpu_multi_thread_eigen=false",
                f"intra_op_parallelism_threads={threads}",
            ],
        )
    )
    return limits
