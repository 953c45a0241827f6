"""What a finished sweep leaves: `trials.csv`, `best_config.yaml`, `sweep.png`, a table.

One `TrialRow` per trial, built from Ray Tune's `ResultGrid`: its parameters, status,
epochs run, whether the scheduler stopped it early, the best value of the sweep metric
over its epochs, its last reported metrics, the Ray node ids it ran on and the GPUs
Ray gave it.
"""

import csv
import dataclasses
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from inside_keras.config import save_config
from inside_keras.evaluation.plots import save_figure
from inside_keras.runs.atomic import atomic_path

#: Metrics copied from each trial's last report, when reported.
FINAL_METRICS = ("loss", "val_loss", "dice", "val_dice", "dice_soft", "val_dice_soft")
TRIALS_FILE, BEST_CONFIG_FILE, FIGURE_FILE = "trials.csv", "best_config.yaml", "sweep.png"


@dataclasses.dataclass(frozen=True)
class TrialRow:
    """One trial of a sweep.

    Args:
        trial_id: Ray Tune's trial id.
        status: `"TERMINATED"` (ran to its end or was stopped by the scheduler) or `"ERROR"`.
        params: the sampled parameters, `{dotted name: value}`.
        epochs: epochs finished.
        stopped_early: the scheduler stopped it before the experiment's last epoch.
        best: best value of the sweep metric over its epochs (NaN if none reported).
        final: last reported value of each of `FINAL_METRICS`.
        node_ids: Ray node ids that reported for it.
        error: first line of the error, for failed trials.
        cuda_visible_devices: the trial's `CUDA_VISIBLE_DEVICES` values (the GPUs Ray
            gave it; one value a start, as a restart may get others; a trial without
            GPUs keeps its node's, usually none).
    """

    trial_id: str
    status: str
    params: dict
    epochs: int
    stopped_early: bool
    best: float
    final: dict
    node_ids: tuple
    error: str = ""
    cuda_visible_devices: tuple = ()


def trial_rows(results, spec):
    """`TrialRow`s of a `ray.tune.ResultGrid`, best first (failed trials last)."""
    rows = []
    for result in results:
        history = result.metrics_dataframe
        metrics = result.metrics or {}
        reported = history is not None and spec.metric in getattr(history, "columns", ())
        values = [v for v in (history[spec.metric] if reported else []) if math.isfinite(v)]
        best = (max if spec.mode == "max" else min)(values) if values else math.nan
        epochs = int(metrics.get("epoch", 0))
        failure = metrics.get("failure") or ""  # a failure that would recur (trainable.py)
        status = "ERROR" if result.error is not None or failure else "TERMINATED"
        nodes = history["node_id"].dropna().unique() if reported else ()
        gpus = (
            history["cuda_visible_devices"].dropna().unique()
            if reported and "cuda_visible_devices" in history.columns
            else ()
        )
        rows.append(
            TrialRow(
                trial_id=str(metrics.get("trial_id") or Path(result.path).name),
                status=status,
                params={p.name: result.config.get(p.name) for p in spec.space},
                epochs=epochs,
                stopped_early=status == "TERMINATED" and epochs < spec.max_epochs,
                best=best,
                final={name: metrics[name] for name in FINAL_METRICS if name in metrics},
                node_ids=tuple(sorted(str(node) for node in nodes)),
                error=str(result.error).strip().splitlines()[0] if result.error else failure,
                cuda_visible_devices=tuple(sorted(str(gpu) for gpu in gpus if str(gpu))),
            )
        )
    sign = -1 if spec.mode == "max" else 1
    return sorted(rows, key=lambda row: (math.isnan(row.best), sign * row.best))


def write_trials_csv(rows, spec, path):
    """One CSV row a trial: id, status, parameters, epochs, metrics, nodes, GPUs, error."""
    params = [p.name for p in spec.space]
    columns = [
        "trial_id",
        "status",
        *params,
        "epochs",
        "stopped_early",
        f"best_{spec.metric}",
        *FINAL_METRICS,
        "node_ids",
        "cuda_visible_devices",
        "error",
    ]
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(
                [
                    row.trial_id,
                    row.status,
                    *(row.params[name] for name in params),
                    row.epochs,
                    row.stopped_early,
                    row.best,
                    *(row.final.get(name, "") for name in FINAL_METRICS),
                    " ".join(row.node_ids),
                    " ".join(row.cuda_visible_devices),
                    row.error,
                ]
            )


def write_best_config(best, spec, data_path, out_dir, path):
    """The best trial's experiment config, trainable with `inside-keras train --config`:
    the spec's experiment with the trial's parameters, on the prepared file the trials
    trained on (`data_path`), run in `out_dir/best_run`."""
    config = spec.experiment_config(best.params, Path(out_dir) / "best_run")
    data = dataclasses.replace(config.data, path=str(Path(data_path).resolve()), generate=None)
    config = dataclasses.replace(config, data=data)
    save_config(config, path)
    return config


def best_table(rows, spec, top=5):
    """A plain-text table of the `top` best trials."""
    header = [
        "trial",
        "status",
        *(p.name.split(".")[-1] for p in spec.space),
        "epochs",
        spec.metric,
    ]
    lines = [header]
    for row in rows[:top]:
        lines.append(
            [
                row.trial_id,
                row.status,
                *(_short(row.params[p.name]) for p in spec.space),
                str(row.epochs),
                f"{row.best:.4f}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines
    )


def _short(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_sweep(rows, spec, path):
    """`sweep.png`: the sweep metric (best per trial) against each searched parameter.

    Categorical parameters are drawn at one position per value (jittered); log-uniform
    ones on a log axis. Trials the scheduler stopped early are hollow markers. Written
    atomically; returns the path.
    """
    finished = [row for row in rows if not math.isnan(row.best)]
    columns = min(3, len(spec.space))
    lines = math.ceil(len(spec.space) / columns)
    figure = Figure(figsize=(4.2 * columns, 3.4 * lines))
    axes = figure.subplots(lines, columns, squeeze=False)
    jitter = np.random.default_rng(0)
    for axis, parameter in zip(axes.flat, spec.space, strict=False):
        values = [row.params[parameter.name] for row in finished]
        metric = np.array([row.best for row in finished])
        hollow = np.array([row.stopped_early for row in finished], dtype=bool)
        if parameter.distribution in ("choice", "grid"):
            labels = [str(v) for v in parameter.values]
            x = np.array([labels.index(str(v)) for v in values], dtype=float)
            x += jitter.uniform(-0.12, 0.12, len(x))
            axis.set_xticks(range(len(labels)), labels, rotation=20, fontsize=8)
            axis.set_xlim(-0.5, len(labels) - 0.5)  # every value's tick, even if unsampled
        else:
            x = np.array(values, dtype=float)
            if parameter.distribution == "loguniform":
                axis.set_xscale("log")
        axis.scatter(x[~hollow], metric[~hollow], color="tab:blue", label="ran to the end")
        axis.scatter(
            x[hollow],
            metric[hollow],
            facecolors="none",
            edgecolors="tab:blue",
            label="stopped early",
        )
        axis.set_xlabel(parameter.name, fontsize=8)
        axis.set_ylabel(f"best {spec.metric}")
    for axis in list(axes.flat)[len(spec.space) :]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7)
    figure.suptitle(f"{len(finished)} trials, {spec.metric} ({spec.mode})")
    figure.tight_layout()
    return save_figure(figure, path, dpi=110)
