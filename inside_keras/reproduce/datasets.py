"""How each dataset's reproduction is scored, tabled and illustrated.

`evaluation_of(name)` returns the `Evaluation` a reproduction spec names:

- `clevr-seg`: the mean ± std per-image test Dice of the masks thresholded at 0.5
  (`dice`, `dice_std`) and the authors' soft Dice of the probabilities (`dice_soft`,
  `dice_soft_std`; `inside_keras.evaluation.clevr_seg`); figures show the first test
  images with their quadrant.
- `acdc`: the challenge's way (`inside_keras.evaluation.acdc.slices`): predicted class
  probabilities go back into volumes at the source spacing before the argmax; Dice
  and HD95 for RV, MYO and LV at ED and ES. Each method's row in `results.json` holds:

      dice, dice_std      mean Dice over the 3 structures x 2 phases (each the mean
                          over test volumes); std over volumes of their mean Dice
      hd95_mm             mean HD95 over the structures and phases where it is defined
      structures          {RV|MYO|LV: {dice, hd95_mm}}, means over both phases
      phases              {ED|ES: {dice, hd95_mm}}, means over the three structures
      challenge           {ED|ES: {RV|MYO|LV: {dice_mean, dice_std, hd95_mean_mm,
                          hd95_std_mm, volumes, hd95_undefined}}}: the challenge table
      slice_dice          mean per-slice foreground Dice on the prepared grid

  HD95 values that are undefined for every volume (a structure never predicted) are
  `null`; `results.md` adds the challenge table of each method. Figures show ED and
  ES slices at base, middle and apex of the first test patient.
"""

import numpy as np

from inside_keras.data.acdc.reader import PHASES
from inside_keras.errors import InputError
from inside_keras.evaluation.acdc.scores import TABLE_STRUCTURES

#: CLEVR-Seg test samples shown in the attention figures.
FIGURE_SAMPLES = 6
#: ACDC slice positions (0 base, 1 apex) shown in the figures, at ED and at ES.
FIGURE_POSITIONS = (0.0, 0.5, 1.0)


class Evaluation:
    """How one dataset's test predictions are scored, tabled and illustrated."""

    def score(self, probabilities, test, data):
        """Scores of the model outputs `probabilities` `(N, H, W, C)` (sigmoid or
        softmax) of the `test` arrays, given the reproduction's `PreparedData`.

        Returns:
            A JSON-ready dict starting with `"dice"` (the headline test Dice in [0, 1])
            and `"dice_std"`.
        """
        raise NotImplementedError

    def figure_samples(self, test):
        """`(indices, titles)`: the test samples shown in the figures and their row titles."""
        raise NotImplementedError

    def describe(self, config):
        """The shared experiment `config` in words, for the line above the results table."""
        raise NotImplementedError

    def table_columns(self):
        """Extra columns of the results table: `(header, function of a method's row)`."""
        return ()

    def markdown_details(self, results):
        """Lines of Markdown written after the results table."""
        return []


class ClevrSegEvaluation(Evaluation):
    """CLEVR-Seg with the coordinates condition: per-image Dice."""

    def score(self, probabilities, test, data):
        from inside_keras.evaluation.clevr_seg import scores

        return scores(probabilities, test)

    def table_columns(self):
        return [
            (
                "soft Dice, the authors' (mean ± std)",
                lambda row: f"{row['dice_soft']:.3f} ± {row['dice_soft_std']:.3f}",
            )
        ]

    def figure_samples(self, test):
        from inside_keras.data.clevr_seg.reader import CONDITIONS

        indices = np.arange(min(FIGURE_SAMPLES, len(test["x"])))
        titles = [
            CONDITIONS["coordinates"][int(test["z"][i].argmax())].replace("_", " ") for i in indices
        ]
        return indices, titles

    def describe(self, config):
        data = _data_words(config, "images")
        return f"{data}, {config.model.architecture}, up to {config.training.epochs} epochs"


class ACDCEvaluation(Evaluation):
    """ACDC (or phantoms) scored per volume like the challenge (see the module docstring)."""

    def score(self, probabilities, test, data):
        from inside_keras.evaluation.acdc.slices import scores

        return scores(probabilities, test, data.source)

    def figure_samples(self, test):
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

    def describe(self, config):
        model = config.model
        return (
            f"{_data_words(config, 'patients')}, U-Net depth {model.depth} with "
            f"{model.base_filters} base filters and the conditioning in the "
            f"{model.placement}, up to {config.training.epochs} epochs; Dice and HD95 per "
            "volume at the source spacing, mean over RV, MYO, LV at ED and ES"
        )

    def table_columns(self):
        columns = [
            (f"{s} Dice", lambda row, s=s: _format(row["structures"][s]["dice"], 3))
            for s in TABLE_STRUCTURES
        ]
        return columns + [("HD95 (mm)", lambda row: _format(row["hd95_mm"], 2))]

    def markdown_details(self, results):
        from inside_keras.evaluation.acdc.slices import challenge_markdown

        lines = []
        for method, row in results["methods"].items():
            lines += [f"### {method}", "", *challenge_markdown(row["challenge"]), ""]
            if "folds" in row:
                lines += [*_fold_markdown(row), ""]
        return lines[:-1]


EVALUATIONS = {"clevr-seg": ClevrSegEvaluation, "acdc": ACDCEvaluation}


def evaluation_of(name):
    """The `Evaluation` named by a reproduction spec."""
    if name not in EVALUATIONS:
        raise InputError(f"got {name!r}; allowed: {', '.join(EVALUATIONS)}", "evaluation")
    return EVALUATIONS[name]()


def _data_words(config, unit):
    """The data of an experiment config in words."""
    data = config.data
    if data.generate is None:
        return f"data {data.path}"
    generate = data.generate
    if generate.source is not None:
        folds = f" in {generate.folds} folds" if generate.folds else ""
        return (
            f"patients of {generate.source}{folds}, slices of {generate.size}px at "
            f"{generate.spacing:g} mm"
        )
    if generate.dataset == "acdc":
        folds = f" in {generate.folds} folds" if generate.folds else ""
        return (
            f"{generate.patients} phantom patients{folds}, slices of {generate.size}px at "
            f"{generate.spacing:g} mm"
        )
    return f"{generate.images} {unit} of {generate.size}px"


def _fold_markdown(row):
    """The per-fold table of a cross-validated method's `row`, and where its scores are."""
    lines = ["| fold | patients | Dice | HD95 (mm) |", "|---|---|---|---|"]
    for entry in row["folds"]:
        lines.append(
            f"| {entry['fold']} | {len(entry['patients'])} | {_format(entry['dice'], 3)} | "
            f"{_format(entry['hd95_mm'], 2)} |"
        )
    return lines + [
        "",
        f"Every patient's scores and the clinical indices: {row['scores']}/summary.md.",
    ]


def _format(value, digits):
    return "n/a" if value is None else f"{value:.{digits}f}"
