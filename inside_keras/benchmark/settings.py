"""What a benchmark run measures: workloads, configurations and step counts."""

from dataclasses import asdict, dataclass, field, replace

from inside_keras.config import PRECISIONS

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

#: A smoke run's subset: the reference, one layer at the bottleneck, one at all levels.
QUICK_CONFIGURATIONS = (("none", "none"), ("inside", "bottleneck"), ("film", "all"))

#: Backends `--backend` accepts (`all` runs each in turn).
BACKENDS = ("jax", "torch", "tensorflow")

#: `jit_compile` per backend for the train step, chosen by measurement (see
#: BENCHMARKS.md): XLA on JAX and TensorFlow; eager on PyTorch, where Keras's
#: `jit_compile=True` (torch.compile) took minutes to compile each model and was not
#: faster on this CPU.
JIT_COMPILE = {"jax": True, "tensorflow": True, "torch": False}


#: Placements the encoder-decoder has (it is conditioned once, in its bottleneck).
ENCODER_DECODER_PLACEMENTS = ("none", "bottleneck")


@dataclass(frozen=True)
class Workload:
    """One network size: input shape (without batch), batch size, architecture.

    Args:
        input_shape: `(H, W, C)` or `(D, H, W, C)`.
        batch_size: samples per train step.
        depth: U-Net depth (poolings).
        base_filters: filters of the first U-Net level.
        architecture: `"unet"`, or `"encoder_decoder"` (the paper's CLEVR-Seg network,
            2-D; `depth` and `base_filters` do not apply).
    """

    input_shape: tuple
    batch_size: int
    depth: int = 4
    base_filters: int = 32
    architecture: str = "unet"

    @property
    def spatial_dims(self):
        return len(self.input_shape) - 1

    def label(self):
        """Short name for logs and tables, e.g. `"2-D unet 128x128x1 b16"`."""
        shape = "x".join(map(str, self.input_shape))
        return f"{self.spatial_dims}-D {self.architecture} {shape} b{self.batch_size}"

    def configurations(self, configurations):
        """The `(conditioning, placement)` pairs of `configurations` this network has."""
        if self.architecture == "encoder_decoder":
            return tuple(c for c in configurations if c[1] in ENCODER_DECODER_PLACEMENTS)
        return tuple(configurations)


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

#: The paper's sizes, for a GPU: the CLEVR-Seg encoder-decoder (200x200x3, batch 32),
#: the ACDC U-Net (128x128x1, depth 4, 32 filters, batch 16) and a 3-D U-Net
#: (64x128x128x1, batch 2).
GPU_WORKLOADS = (
    Workload((200, 200, 3), batch_size=32, architecture="encoder_decoder"),
    Workload((128, 128, 1), batch_size=16, depth=4, base_filters=32),
    Workload((64, 128, 128, 1), batch_size=2, depth=4, base_filters=32),
)

#: The GPU workloads' networks at tiny sizes: the same code path on a CPU in seconds.
GPU_QUICK_WORKLOADS = (
    Workload((16, 16, 3), batch_size=2, architecture="encoder_decoder"),
    Workload((16, 16, 1), batch_size=2, depth=2, base_filters=4),
    Workload((4, 16, 16, 1), batch_size=1, depth=2, base_filters=4),
)

#: Networks whose eager and compiled train steps the `compile` suite compares on a CPU:
#: the paper's encoder-decoder and the U-Net at sizes a CPU steps in about a second.
COMPILE_WORKLOADS = (
    Workload((128, 128, 3), batch_size=8, architecture="encoder_decoder"),
    Workload((128, 128, 1), batch_size=8, depth=4, base_filters=16),
)

#: Suites `inside-keras bench --suite` runs: the CPU and GPU step suites, and the eager
#: against compiled comparison at CPU sizes (`compile`) and at the GPU suite's 2-D
#: sizes (`gpu-compile`).
SUITES = ("cpu", "gpu", "compile", "gpu-compile")


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
        precisions: `training.precision` values each workload is measured in.
        pipeline_megabytes: largest synthetic array set the pipeline is timed on
            (fewer samples for large workloads, at least two batches).
        time_limit: seconds a backend's process may run; it is stopped after that and
            the workloads it finished are kept (None: no limit).
        compare_compile: instead of the configurations and the pipeline, compare each
            workload's eager and compiled train steps (`train_steps.measure_compile`).
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
    precisions: tuple = ("float32",)
    pipeline_megabytes: int = 512
    time_limit: float | None = None
    compare_compile: bool = False

    def __post_init__(self):
        for name in ("warmup", "inference_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)}.")
        for name in ("steps", "pipeline_samples", "pipeline_epochs", "generate_images"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)}.")
        unknown = [p for p in self.precisions if p not in PRECISIONS]
        if unknown or not self.precisions:
            raise ValueError(
                f"`precisions` must be a non-empty subset of {PRECISIONS}, got {self.precisions!r}."
            )
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError(f"`time_limit` must be > 0 seconds, got {self.time_limit}.")
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
        values["precisions"] = tuple(values["precisions"])
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


def gpu_settings(quick=False):
    """The GPU suite: the paper's sizes in float32 and mixed bfloat16, no inference
    timing; `quick`: the same networks at tiny sizes with few steps (a CPU smoke run)."""
    settings = BenchSettings(
        workloads=GPU_WORKLOADS,
        warmup=2,
        steps=10,
        inference_steps=0,
        precisions=("float32", "mixed_bfloat16"),
    )
    if quick:
        settings = replace(
            quick_settings(settings),
            workloads=GPU_QUICK_WORKLOADS,
            inference_steps=0,
            generate_images=2,
            generate_size=64,
            configurations=QUICK_CONFIGURATIONS,
        )
    return settings


def compile_settings(gpu=False, quick=False):
    """The eager against compiled comparison: `COMPILE_WORKLOADS`, or with `gpu` the GPU
    suite's 2-D networks (encoder-decoder 200x200x3 b32, U-Net 128x128x1 b16); `quick`:
    the tiny encoder-decoder of the GPU suite's smoke run, few steps (a CPU smoke run:
    compiling takes seconds to a minute per network here)."""
    workloads = tuple(w for w in GPU_WORKLOADS if w.spatial_dims == 2) if gpu else COMPILE_WORKLOADS
    settings = BenchSettings(workloads=workloads, warmup=2, steps=10, compare_compile=True)
    if quick:
        settings = replace(settings, workloads=GPU_QUICK_WORKLOADS[:1], warmup=1, steps=3)
    return settings


def suite_settings(suite, quick=False):
    """`BenchSettings` of a suite in `SUITES` (`quick`: a smoke run of it)."""
    if suite == "gpu":
        return gpu_settings(quick)
    if suite in ("compile", "gpu-compile"):
        return compile_settings(gpu=suite == "gpu-compile", quick=quick)
    return quick_settings() if quick else BenchSettings()


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
