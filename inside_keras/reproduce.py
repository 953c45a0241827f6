"""The paper's comparison, regenerated: baseline, FiLM, Guide Me and INSIDE.

`reproduce_clevr_seg(settings, out_dir)` makes sure prepared CLEVR-Seg data exists
(generating and preparing a synthetic set with the coordinates condition if not),
trains the paper's encoder-decoder with each conditioning under identical settings,
evaluates test Dice, and writes into `out_dir`:

    results.json    {"dataset", "backend", "loss", "settings", "methods": {name: {"dice", ...}}}
    results.md      the same as a Markdown table
    attention_inside.png, attention_guide_me.png
                    input / prediction / ground truth / attention for test samples
    <method>/       each method's training run (model.keras, log.csv, curves.png, ...)
    logs/           each training job's config and output

Methods are trained in `inside-keras train` subprocesses, one per CPU at a time.

Finished runs are reused and unfinished ones resumed, so an interrupted
`reproduce` continues where it stopped.
"""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from inside_keras.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    OutputConfig,
    TrainingConfig,
)
from inside_keras.threads import thread_limits

#: Method name in results -> conditioning type of the encoder-decoder.
METHODS = {"baseline": "none", "film": "film", "guide_me": "guide_me", "inside": "inside"}


@dataclasses.dataclass(frozen=True)
class ReproduceSettings:
    """Data and training settings shared by all four methods.

    Args:
        images: number of synthetic images generated when no data is prepared.
        size: image side in pixels.
        epochs: maximum epochs (early stopping as the paper: patience 25).
        batch_size: samples per step.
        learning_rate: Adam's learning rate.
        loss: loss name (`inside_keras.losses`).
        seed: data and training seed.
    """

    images: int
    size: int
    epochs: int
    batch_size: int = 32
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    seed: int = 0


#: The paper's setting: 4,000 images of 200x200, batch 32, up to 100 epochs, focal loss.
FULL = ReproduceSettings(images=4000, size=200, epochs=100, loss="focal")
#: Sized for a 2-core CPU (see README for times): 64x64 images, 10 epochs at a 3x
#: learning rate, BCE + soft Dice, since the paper's focal loss leaves INSIDE
#: all-background for the first epochs of a short run.
QUICK = ReproduceSettings(images=2000, size=64, epochs=10, learning_rate=3e-3)


def ensure_clevr_seg(data_dir, settings, workers=None, verbose=True):
    """Path of a prepared CLEVR-Seg (coordinates) file, generating it if missing.

    Args:
        data_dir: folder for the synthetic images and the prepared file.
        settings: `ReproduceSettings` (images, size, seed).
        workers: processes for generating and reading images; None uses every CPU.
            Workers are forked: pass 1 if a Keras backend is already loaded.
        verbose: print what is generated.
    """
    from inside_keras.data import clevr_prepare, clevr_seg, clevr_synthetic
    from inside_keras.data.parallel import default_workers
    from inside_keras.data.prepared import save_prepared

    workers = workers or default_workers()
    data_dir = Path(data_dir)
    prepared = data_dir / f"prepared_coordinates_{settings.size}px_{settings.images}.npz"
    if prepared.is_file():
        return prepared
    source = data_dir / f"synthetic_{settings.size}px_{settings.images}"
    if not (source / "images").is_dir():
        if verbose:
            print(f"generating {settings.images} synthetic CLEVR-Seg images in {source}")
        clevr_synthetic.generate(
            source,
            clevr_synthetic.GenerateOptions(
                n=settings.images, size=settings.size, seed=settings.seed, workers=workers
            ),
        )
    if verbose:
        print(f"preparing {prepared} (condition: coordinates)")
    options = clevr_prepare.PrepareOptions(
        "coordinates", size=settings.size, seed=settings.seed, workers=workers
    )
    result = clevr_prepare.prepare(clevr_seg.find_root(source), options)
    save_prepared(prepared, **result.arrays)
    return prepared


def method_config(method, data_path, settings, out_dir):
    """The experiment config of one method; all methods differ only in conditioning."""
    return ExperimentConfig(
        data=DataConfig(path=str(data_path)),
        model=ModelConfig(architecture="encoder_decoder", conditioning=METHODS[method]),
        training=TrainingConfig(
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            learning_rate=settings.learning_rate,
            loss=settings.loss,
            seed=settings.seed,
        ),
        output=OutputConfig(dir=str(Path(out_dir) / method)),
    )


def job_environment(threads):
    """Environment of one training job limited to `threads` CPU threads on any backend."""
    env = dict(os.environ)
    env.update(thread_limits(threads, env.get("XLA_FLAGS")))
    return env


def train_methods(configs, out_dir, jobs, verbose=True):
    """Train each method's config in `inside-keras train` subprocesses, `jobs` at a time.

    Finished runs are reused and unfinished ones resumed. Each job gets an equal share
    of the CPUs (XLA on CPU barely uses a second core for these small networks, so two
    single-threaded jobs finish about twice as fast as one after the other). Logs go to
    `<out_dir>/logs/<method>.log`; the training time of each run is kept in its folder
    (`train_seconds.json`).

    Args:
        configs: `{method: ExperimentConfig}`.
        out_dir: the reproduce output folder.
        jobs: processes at once.
        verbose: print when each job starts and ends.

    Returns:
        `{method: seconds}` training time of each run.

    Raises:
        RuntimeError: a job failed (the message ends with its log's last lines).
    """
    from inside_keras.config import save_config
    from inside_keras.training import RunState, run_state

    logs = Path(out_dir) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = job_environment(max(1, (os.cpu_count() or 1) // jobs))
    pending = [m for m in configs if run_state(configs[m].output.dir) is not RunState.FINISHED]
    running = {}
    while pending or running:
        while pending and len(running) < jobs:
            method = pending.pop(0)
            config_path = logs / f"{method}.yaml"
            save_config(configs[method], config_path)
            command = [
                sys.executable,
                "-m",
                "inside_keras",
                "train",
                "--config",
                str(config_path),
                "--quiet",
            ]
            if run_state(configs[method].output.dir) is RunState.UNFINISHED:
                command.append("--resume")
            log = open(logs / f"{method}.log", "a")  # noqa: SIM115 - closed when the job ends
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
            running[method] = (process, log, time.perf_counter())
            if verbose:
                print(f"training {method} (log: {logs / f'{method}.log'})", flush=True)
        time.sleep(0.5)
        for method, (process, log, start) in list(running.items()):
            if process.poll() is None:
                continue
            log.close()
            del running[method]
            if process.returncode != 0:
                for other, _, _ in running.values():
                    other.kill()
                tail = " | ".join((logs / f"{method}.log").read_text().splitlines()[-3:])
                raise RuntimeError(f"training {method} failed (exit {process.returncode}): {tail}")
            seconds = time.perf_counter() - start
            timing = Path(configs[method].output.dir) / "train_seconds.json"
            timing.write_text(json.dumps({"seconds": seconds}))
            if verbose:
                print(f"{method} trained in {seconds:.0f} s", flush=True)
    return {
        method: json.loads((Path(c.output.dir) / "train_seconds.json").read_text())["seconds"]
        for method, c in configs.items()
    }


def write_results(out_dir, results):
    """`results.json` and `results.md` in `out_dir`."""
    out_dir = Path(out_dir)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2))
    lines = [
        f"Test Dice on {results['dataset']} ({results['backend']} backend, "
        f"loss {results['loss']}, {results['settings']['images']} images of "
        f"{results['settings']['size']}px, up to {results['settings']['epochs']} epochs)",
        "",
        "| method | test Dice (mean ± std) | epochs | train time (s) |",
        "|---|---|---|---|",
    ]
    for name, row in results["methods"].items():
        lines.append(
            f"| {name} | {row['dice']:.3f} ± {row['dice_std']:.3f} | {row['epochs']} | "
            f"{row['train_seconds']:.0f} |"
        )
    (out_dir / "results.md").write_text("\n".join(lines) + "\n")


def reproduce_clevr_seg(settings, out_dir, data_dir, workers=None, jobs=None, verbose=1):
    """Run the comparison on CLEVR-Seg; returns the results dict (see module docstring).

    Args:
        settings: `ReproduceSettings` shared by all methods.
        out_dir: results folder.
        data_dir: folder for the generated and prepared data (reused when present).
        workers: data worker processes (see `ensure_clevr_seg`).
        jobs: methods trained at once (see `train_methods`); None: one per CPU.
        verbose: print progress (data, jobs starting and ending, test Dice).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Data first: generation forks worker processes, which must happen before a
    # Keras backend (multithreaded) is loaded in this process.
    data_path = ensure_clevr_seg(data_dir, settings, workers, verbose=bool(verbose))

    import keras
    import numpy as np

    from inside_keras.data.prepared import load_prepared, select_split
    from inside_keras.evaluation import dice_scores, predict_arrays, to_labels, truth_labels
    from inside_keras.models import attention_model
    from inside_keras.plots import plot_samples
    from inside_keras.training import LOG_FILE, MODEL_FILE, finished_epochs

    configs = {m: method_config(m, data_path, settings, out_dir) for m in METHODS}
    seconds = train_methods(configs, out_dir, jobs or default_jobs(), verbose=bool(verbose))
    test = select_split(load_prepared(data_path), "test")
    results = {
        "dataset": "clevr-seg",
        "backend": keras.backend.backend(),
        "loss": settings.loss,
        "settings": dataclasses.asdict(settings),
        "data": str(data_path),
        "methods": {},
    }
    shown = np.arange(min(6, len(test["x"])))
    for method, config in configs.items():
        model = keras.saving.load_model(Path(config.output.dir) / MODEL_FILE, safe_mode=True)
        labels = to_labels(predict_arrays(model, test))
        scores = dice_scores(labels, truth_labels(test), num_classes=1)
        results["methods"][method] = {
            "dice": scores["dice"],
            "dice_std": float(np.std(scores["per_image"])),
            "epochs": len(finished_epochs(Path(config.output.dir) / LOG_FILE)),
            "train_seconds": seconds[method],
        }
        if verbose:
            print(f"{method}: test Dice {scores['dice']:.3f}")
        if method in ("inside", "guide_me"):
            sample = {key: test[key][shown] for key in ("x", "z")}
            maps = attention_model(model).predict(
                {"image": sample["x"], "condition": sample["z"]}, verbose=0
            )
            titles = [_quadrant_title(z) for z in sample["z"]]
            plot_samples(
                test["x"][shown],
                truth_labels(test)[shown],
                labels[shown],
                maps["bottleneck"],
                out_dir / f"attention_{method}.png",
                titles,
            )
    write_results(out_dir, results)
    return results


def default_jobs():
    """Training jobs at once: one per CPU, at most one per method."""
    return max(1, min(len(METHODS), os.cpu_count() or 1))


def _quadrant_title(z):
    from inside_keras.data.clevr_seg import CONDITIONS

    return CONDITIONS["coordinates"][int(z.argmax())].replace("_", " ")
