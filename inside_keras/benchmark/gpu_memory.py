"""The GPU a backend computes on, and the GPU memory a train step allocates there.

PyTorch keeps an exact high-water mark that can be reset:
`torch.cuda.reset_peak_memory_stats` before the step, `max_memory_allocated` after.
JAX has no reset (its `peak_bytes_in_use` is the process's high-water mark since it
started), so a thread samples the device's `bytes_in_use` during the step
(`memory.PeakMemory`; a lower bound), and `process_peak_mb` reports the high-water
mark. Both report the memory the step allocates on top of what was allocated before
it (activations, gradients, temporaries; not weights and optimizer state).
TensorFlow's GPU memory is not measured.
"""

from inside_keras.benchmark.memory import PeakMemory


def gpu_name(backend):
    """Name of the GPU `backend` computes on, or None when it runs on the CPU."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return device.device_kind if device.platform == "gpu" else None
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return None


def _jax_bytes_in_use():
    import jax

    return jax.local_devices()[0].memory_stats()["bytes_in_use"]


class _TorchPeak:
    """Context manager: `peak_mb` from PyTorch's resettable CUDA high-water mark."""

    def __enter__(self):
        import torch

        torch.cuda.synchronize()
        self._start = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        return self

    def __exit__(self, *exc_info):
        import torch

        torch.cuda.synchronize()
        self.peak_mb = max(torch.cuda.max_memory_allocated() - self._start, 0) / 2**20
        return False


def gpu_peak_memory(backend):
    """A context manager whose `peak_mb` is the GPU memory allocated inside it."""
    if backend == "torch":
        return _TorchPeak()
    return PeakMemory(read=_jax_bytes_in_use)


def process_peak_mb(backend):
    """JAX: the GPU's high-water mark of this process in MiB; None elsewhere."""
    if backend != "jax":
        return None
    import jax

    return jax.local_devices()[0].memory_stats()["peak_bytes_in_use"] / 2**20
