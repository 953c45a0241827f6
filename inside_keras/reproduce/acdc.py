"""The comparison on ACDC, conditioned on cardiac phase and slice position, with a U-Net.

`reproduce_acdc(settings, out_dir, data_dir, source=None)` makes sure a prepared ACDC
file exists: it prepares the patients of `source/training` (a real ACDC folder in the
published layout), or, without `source`, of synthetic phantoms it generates in
`data_dir` (`inside_keras.data.acdc.phantom`). The condition is `[ED, ES, position]`
(`prepare acdc` defaults), patients are split into train, val and test. It trains a
2-D U-Net with the conditioning in the bottleneck (none, FiLM, Guide Me, INSIDE) under
identical settings and scores the test patients like the challenge
(`inside_keras.data.acdc_evaluation`): predicted slices go back into volumes at the
source spacing; Dice and HD95 for RV, MYO and LV at ED and ES. Each method's row in
`results.json` holds:

    dice, dice_std      mean Dice over the 3 structures x 2 phases (each the mean over
                        test volumes); std over volumes of their mean structure Dice
    hd95_mm             mean HD95 over the structures and phases where it is defined
    structures          {RV|MYO|LV: {dice, hd95_mm}}, means over both phases
    phases              {ED|ES: {dice, hd95_mm}}, means over the three structures
    challenge           {ED|ES: {RV|MYO|LV: {dice_mean, dice_std, hd95_mean_mm,
                        hd95_std_mm, volumes, hd95_undefined}}}: the challenge table
    slice_dice          mean per-slice foreground Dice on the prepared grid

HD95 values that are undefined for every volume (a structure never predicted) are
`null`. `results.md` adds the challenge table of each method. The other files are
those listed in `inside_keras.reproduce.runner`.
"""

import dataclasses
from pathlib import Path

import numpy as np

from inside_keras.config import ModelConfig
from inside_keras.data.acdc.reader import PHASES
from inside_keras.data.acdc_evaluation import TABLE_STRUCTURES
from inside_keras.data.ready import ACDCData, acdc_source, ensure_acdc
from inside_keras.errors import InputError
from inside_keras.reproduce.runner import (
    METHODS,
    PreparedData,
    Reproduction,
    TrainingSettings,
    run_reproduction,
)

#: INSIDE's options, as in `configs/acdc_inside.yaml`: widths relative to the map size.
INSIDE_OPTIONS = {"sigma_relative": True, "sigma_scale": 0.5}
#: Where the conditioning goes in the U-Net, for every method.
PLACEMENT = "bottleneck"
#: Slice positions (0 base, 1 apex) shown in the figures, at ED and at ES.
FIGURE_POSITIONS = (0.0, 0.5, 1.0)
#: Challenge-table fields kept per phase and structure in `results.json`.
CHALLENGE_FIELDS = (
    "dice_mean",
    "dice_std",
    "hd95_mean_mm",
    "hd95_std_mm",
    "volumes",
    "hd95_undefined",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ACDCSettings(TrainingSettings):
    """Data and training settings shared by all four methods on ACDC.

    Args:
        patients: phantom patients generated when no source folder is given.
        size: prepared slice height and width in pixels (divisible by `2**depth`).
        spacing: prepared in-plane pixel size in mm.
        depth: U-Net depth (poolings).
        base_filters: U-Net filters at the first level.
        val_fraction: share of patients for validation.
        test_fraction: share of patients for testing.
        **training: `TrainingSettings` (epochs, batch_size (here 16), learning_rate,
            loss (here CE + Dice), patience, seed: phantoms, split and training).
    """

    patients: int
    size: int
    spacing: float
    depth: int = 4
    base_filters: int = 32
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    batch_size: int = 16
    loss: str = "ce_dice"

    def __post_init__(self):
        super().__post_init__()
        self.data  # noqa: B018 -- building the data settings checks them
        for name in ("depth", "base_filters"):
            if getattr(self, name) < 1:
                raise InputError(f"must be at least 1, got {getattr(self, name)}", name)
        if self.size % 2**self.depth:
            raise InputError(
                f"must be divisible by 2**depth = {2**self.depth} (depth {self.depth}), "
                f"got {self.size}",
                "size",
            )

    @property
    def data(self):
        """The `ACDCData` these settings generate (phantoms) and prepare."""
        return ACDCData(
            patients=self.patients,
            size=self.size,
            spacing=self.spacing,
            val_fraction=self.val_fraction,
            test_fraction=self.test_fraction,
            seed=self.seed,
        )


#: Real-size settings, as `configs/acdc_inside.yaml`: 1.25 mm, 128x128 slices, U-Net of
#: depth 4 with 32 base filters, batch 16, Adam 1e-3, CE + Dice, up to 100 epochs with
#: early stopping; 100 phantoms (ACDC's training set size) when no source is given.
ACDC_FULL = ACDCSettings(patients=100, size=128, spacing=1.25, epochs=100)
#: Sized for a 2-core CPU (see README for times): 20 phantoms, 64x64 slices at 2.5 mm
#: (the phantoms' heart fits), U-Net of depth 3 with 16 base filters, 15 epochs at 3e-3.
ACDC_QUICK = ACDCSettings(
    patients=20,
    size=64,
    spacing=2.5,
    epochs=15,
    depth=3,
    base_filters=16,
    learning_rate=3e-3,
)


def _number(value):
    """A number for JSON: counts stay int, NaN becomes None."""
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return None if np.isnan(value) else value


def _nanmean(values):
    values = [v for v in values if v is not None and not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def challenge_scores(result):
    """The JSON row of one method from an `EvaluationResult` (see the module docstring)."""
    summary = {(s["phase"], s["structure"]): s for s in result.summary()}
    volumes = {}
    for row in result.rows:
        volumes.setdefault((row["patient"], row["phase"]), []).append(row["dice"])

    def mean_of(keys, field):
        return _number(_nanmean([summary[key][field] for key in keys]))

    return {
        "dice": mean_of(summary, "dice_mean"),
        "dice_std": float(np.std([np.mean(d) for d in volumes.values()])),
        "hd95_mm": mean_of(summary, "hd95_mean_mm"),
        "structures": {
            structure: {
                "dice": mean_of([(p, structure) for p in PHASES], "dice_mean"),
                "hd95_mm": mean_of([(p, structure) for p in PHASES], "hd95_mean_mm"),
            }
            for structure in TABLE_STRUCTURES
        },
        "phases": {
            phase: {
                "dice": mean_of([(phase, s) for s in TABLE_STRUCTURES], "dice_mean"),
                "hd95_mm": mean_of([(phase, s) for s in TABLE_STRUCTURES], "hd95_mean_mm"),
            }
            for phase in PHASES
        },
        "challenge": {
            phase: {
                structure: {
                    field: _number(summary[(phase, structure)][field]) for field in CHALLENGE_FIELDS
                }
                for structure in TABLE_STRUCTURES
            }
            for phase in PHASES
        },
    }


def _mean_std(mean, std, digits):
    return "n/a" if mean is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def challenge_markdown(challenge):
    """The challenge table of one method (its `"challenge"` entry) as Markdown lines."""
    header = ["Structure"] + [f"{phase} Dice" for phase in PHASES]
    header += [f"{phase} HD95 (mm)" for phase in PHASES]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for structure in TABLE_STRUCTURES:
        cells = [structure]
        for mean_key, std_key, digits in (
            ("dice_mean", "dice_std", 3),
            ("hd95_mean_mm", "hd95_std_mm", 2),
        ):
            for phase in PHASES:
                entry = challenge[phase][structure]
                cells.append(_mean_std(entry[mean_key], entry[std_key], digits))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _format(value, digits):
    return "n/a" if value is None else f"{value:.{digits}f}"


@dataclasses.dataclass(frozen=True)
class ACDCReproduction(Reproduction):
    """ACDC (or phantoms) with the phase + position condition and a U-Net.

    Args:
        settings: `ACDCSettings` shared by all methods.
        source: an ACDC root in the published layout; None generates phantoms.
    """

    settings: ACDCSettings
    source: Path | None = None

    dataset = "acdc"

    def ensure_data(self, data_dir, verbose):
        data = self.settings.data
        source = acdc_source(data_dir, data, self.source, verbose)
        return PreparedData(ensure_acdc(data_dir, data, source, verbose), source)

    def model_config(self, method):
        conditioning = METHODS[method]
        return ModelConfig(
            architecture="unet",
            conditioning=conditioning,
            placement=PLACEMENT,
            depth=self.settings.depth,
            base_filters=self.settings.base_filters,
            conditioning_options=dict(INSIDE_OPTIONS) if conditioning == "inside" else {},
        )

    def score(self, labels, test, data):
        from inside_keras.data.acdc_evaluation import evaluate
        from inside_keras.evaluation import dice_scores, truth_labels

        row = challenge_scores(evaluate(labels, test, data.source))
        row["slice_dice"] = dice_scores(labels, truth_labels(test), num_classes=4)["dice"]
        return row

    def figure_samples(self, test):
        """ED and ES slices at base, middle and apex of the first test patient."""
        patient = sorted(set(test["patient"].tolist()))[0]
        indices, titles = [], []
        for phase_id, phase in enumerate(PHASES):
            chosen = np.flatnonzero((test["patient"] == patient) & (test["phase"] == phase_id))
            positions = test["slice_position"][chosen]
            for target in FIGURE_POSITIONS:
                index = int(chosen[np.argmin(np.abs(positions - target))])
                indices.append(index)
                titles.append(f"{phase}, position {test['slice_position'][index]:.2f}")
        return np.array(indices), titles

    def describe(self):
        settings = self.settings
        data = (
            f"patients of {self.source}"
            if self.source is not None
            else f"{settings.patients} phantom patients"
        )
        return (
            f"{data}, slices of {settings.size}px at {settings.spacing:g} mm, U-Net depth "
            f"{settings.depth} with {settings.base_filters} base filters and the conditioning "
            f"in the {PLACEMENT}, up to {settings.epochs} epochs; Dice and HD95 per volume at "
            "the source spacing, mean over RV, MYO, LV at ED and ES"
        )

    def table_columns(self):
        columns = [
            (f"{s} Dice", lambda row, s=s: _format(row["structures"][s]["dice"], 3))
            for s in TABLE_STRUCTURES
        ]
        return columns + [("HD95 (mm)", lambda row: _format(row["hd95_mm"], 2))]

    def markdown_details(self, results):
        lines = []
        for method, row in results["methods"].items():
            volumes = row["challenge"][PHASES[0]][TABLE_STRUCTURES[0]]["volumes"]
            lines += [f"### {method}", "", *challenge_markdown(row["challenge"]), ""]
            lines.append(f"{volumes} test patients, mean ± std per volume.")
            cells = [cell for phase in row["challenge"].values() for cell in phase.values()]
            undefined = sum(cell["hd95_undefined"] for cell in cells)
            if undefined:
                lines.append(
                    f"HD95 undefined (one mask empty) for {undefined} volume-structures, left out."
                )
            lines.append("")
        return lines[:-1]


def reproduce_acdc(settings, out_dir, data_dir, source=None, jobs=None, verbose=1):
    """Run the comparison on ACDC; returns the results dict (see the module docstring).

    Args:
        settings: `ACDCSettings` shared by all methods.
        out_dir: results folder.
        data_dir: folder for phantoms and the prepared file (reused when present).
        source: an ACDC root in the published layout; None generates phantoms.
        jobs: methods trained at once (see `train_methods`); None: one per CPU.
        verbose: print progress (data, jobs starting and ending, test Dice).

    Raises:
        InputError: a bad source folder or too few patients for every split.
        RuntimeError: a training job failed.
    """
    reproduction = ACDCReproduction(settings, None if source is None else Path(source))
    return run_reproduction(reproduction, out_dir, data_dir, jobs=jobs, verbose=verbose)
