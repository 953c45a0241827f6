"""What a benchmark run measures: workloads, configurations and step counts."""

from dataclasses import asdict, dataclass, field, replace

#: `(conditioning, placement)` of each measured U-Net, the reference first.
CONFIGURATIONS = (
    ("none", "none"),
    ("film", "bottleneck"),
    ("guide_me", "bottleneck"),
    ("inside", "bottleneck"),
    ("film", "all"),
    ("guide_me", "all"),
    ("inside", "all"),
)

#: Backends `--backend` accepts (`all` runs each in turn).
BACKENDS = ("jax", "torch", "tensorflow")

#: `jit_compile` per backend for the train step, chosen by measurement (see
#: BENCHMARKS.md): XLA on JAX and TensorFlow; eager on PyTorch, where Keras's
#: `jit_compile=True` (torch.compile) took minutes to compile each model and was not
#: faster on this CPU.
JIT_COMPILE = {"jax": True, "tensorflow": True, "torch": False}


@dataclass(frozen=True)
class Workload:
    """One U-Net size: input shape (without batch), batch size, depth, base filters.

    Args:
        input_shape: `(H, W, C)` or `(D, H, W, C)`.
        batch_size: samples per train step.
        depth: U-Net depth (poolings).
        base_filters: filters of the first level.
    """

    input_shape: tuple
    batch_size: int
    depth: int
    base_filters: int

    @property
    def spatial_dims(self):
        return len(self.input_shape) - 1


#: The measured workloads: a 2-D U-Net on 128x128 images and a 3-D one on 16x64x64 volumes.
FULL_WORKLOADS = (
    Workload((128, 128, 1), batch_size=8, depth=4, base_filters=16),
    Workload((16, 64, 64, 1), batch_size=1, depth=3, base_filters=8),
)

#: Tiny shapes for tests: seconds per backend, numbers meaningless.
TINY_WORKLOADS = (
    Workload((8, 8, 1), batch_size=2, depth=1, base_filters=2),
    Workload((4, 8, 8, 1), batch_size=1, depth=1, base_filters=2),
)


@dataclass(frozen=True)
class BenchSettings:
    """Step counts and sizes of one run.

    Args:
        workloads: the `Workload`s measured (2-D and 3-D).
        warmup: untimed train steps per model after the first (compiling) one.
        steps: timed rounds; each round runs one train step of every configuration,
            starting one configuration later than the round before.
        inference_steps: timed rounds of `predict_on_batch` per configuration.
        pipeline_samples: samples in the synthetic prepared array set.
        pipeline_epochs: timed passes over it (the median is kept).
        generate_images: images `generate clevr-seg` renders and writes.
        generate_size: their side in pixels.
        condition_dim: length of the condition vector.
        jit_compile: `jit_compile` of the train step; None takes `JIT_COMPILE`.
    """

    workloads: tuple = FULL_WORKLOADS
    warmup: int = 1
    steps: int = 8
    inference_steps: int = 3
    pipeline_samples: int = 256
    pipeline_epochs: int = 5
    generate_images: int = 40
    generate_size: int = 200
    condition_dim: int = 4
    jit_compile: bool | None = None
    configurations: tuple = field(default=CONFIGURATIONS)

    def __post_init__(self):
        for name in ("warmup", "inference_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)}.")
        for name in ("steps", "pipeline_samples", "pipeline_epochs", "generate_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)}.")
        if self.configurations[0] != ("none", "none"):
            raise ValueError(
                "the first configuration must be the reference ('none', 'none'), got "
                f"{self.configurations[0]!r}."
            )

    def jit_for(self, backend):
        """`jit_compile` for the train step on `backend`."""
        return JIT_COMPILE.get(backend, True) if self.jit_compile is None else self.jit_compile

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["workloads"] = tuple(
            Workload(**{**w, "input_shape": tuple(w["input_shape"])}) for w in values["workloads"]
        )
        values["configurations"] = tuple(tuple(c) for c in values["configurations"])
        return cls(**values)


def quick_settings(settings=None):
    """Fewer steps for CI smoke runs (same shapes; ratios are rough)."""
    settings = settings or BenchSettings()
    return replace(
        settings,
        warmup=1,
        steps=3,
        inference_steps=2,
        pipeline_samples=64,
        pipeline_epochs=2,
        generate_images=5,
    )


def tiny_settings(configurations=CONFIGURATIONS):
    """Tiny shapes and single steps: for tests of the benchmark itself."""
    return BenchSettings(
        configurations=configurations,
        workloads=TINY_WORKLOADS,
        warmup=0,
        steps=2,
        inference_steps=1,
        pipeline_samples=8,
        pipeline_epochs=1,
        generate_images=1,
        generate_size=32,
        jit_compile=False,  # compiling costs more than a few eager steps of tiny models
    )
