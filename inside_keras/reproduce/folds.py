"""Cross-validation of an ACDC reproduction: each fold held out once, predictions pooled.

With `data.generate.folds: K` (`reproduce acdc --folds K`) the prepared file carries
each patient's fold (`prepare acdc --folds`, stratified by `Info.cfg` Group).
`fold_files` gives one prepared file per fold, holding that fold out as `test` and
drawing the validation patients from the others (`inside_keras.data.ready.fold_file`);
the runner trains every method on each of them. `PooledScoring` gathers one method's
held-out predictions of all folds in the challenge's submission layout and scores
that folder once, so that every patient is scored exactly once:

    <method>/submission/   patientNNN_ED.nii.gz, patientNNN_ES.nii.gz of every patient
    <method>/scores/       the `score acdc` report of it (scores.csv, clinical.csv,
                           summary.json, summary.md, bland_altman.png)

Its row (`PooledScoring.finish`) holds the pooled scores (`volume_scores`: Dice,
HD95, structures, phases, challenge table), `slice_dice`, the clinical indices'
agreement, each fold's scores (`folds`) and their mean ± std over folds (`fold_mean`).
"""

import shutil
from pathlib import Path

import numpy as np

#: Folders of a method's pooled predictions and of their scores.
SUBMISSION, SCORES = "submission", "scores"


def fold_files(path, generate):
    """The prepared file of each fold (fold k held out as `test`), made once each.

    Args:
        path: the prepared file with folds.
        generate: its `GenerateConfig` (`folds`, `val_fraction`, `seed`).
    """
    from inside_keras.data.ready import fold_file

    return [
        fold_file(path, fold, generate.val_fraction, generate.seed)
        for fold in range(generate.folds)
    ]


def _mean_std(values):
    """`{"mean", "std"}` over the folds of the defined (not None) `values`."""
    defined = [value for value in values if value is not None]
    if not defined:
        return {"mean": None, "std": None}
    return {"mean": float(np.mean(defined)), "std": float(np.std(defined))}


class PooledScoring:
    """One method's held-out predictions over the folds, scored once (module docstring).

    Args:
        folder: the method's folder (`<out>/<method>`); its `submission/` is emptied.
        source: the ACDC root whose `training/` patients were prepared.
    """

    def __init__(self, folder, source):
        self.folder, self.source = Path(folder), Path(source)
        self.submission = self.folder / SUBMISSION
        shutil.rmtree(self.submission, ignore_errors=True)  # an earlier run's, redone
        self.submission.mkdir(parents=True)
        self.fold_of, self.per_slice = {}, []

    def add(self, fold, probabilities, test):
        """Write the predictions `probabilities` of fold `fold`'s `test` arrays.

        Raises:
            RuntimeError: a patient of `test` was held out in an earlier fold too.
        """
        from inside_keras.evaluation.acdc.slices import slice_dice
        from inside_keras.evaluation.acdc.submission import write_submission

        patients = sorted(set(test["patient"].tolist()))
        repeated = [patient for patient in patients if patient in self.fold_of]
        if repeated:
            raise RuntimeError(
                f"patients {repeated} of fold {fold} were held out in fold(s) "
                f"{sorted({self.fold_of[p] for p in repeated})} already"
            )
        write_submission(probabilities, test, self.source, "training", self.submission)
        self.fold_of.update(dict.fromkeys(patients, fold))
        self.per_slice.append(slice_dice(probabilities, test))

    def finish(self):
        """Score the pooled submission once and write its report; returns the row.

        Raises:
            InputError: a patient of the source without predictions (from
                `score_submission`).
            RuntimeError: the scored patients differ from the held-out ones, or the
                submission holds other files.
        """
        from inside_keras.evaluation.acdc.report import write_report
        from inside_keras.evaluation.acdc.slices import volume_scores
        from inside_keras.evaluation.acdc.submission import score_submission

        rows, ignored = score_submission(self.submission, self.source, "training")
        scored = sorted({row["patient"] for row in rows})
        if scored != sorted(self.fold_of) or ignored:
            raise RuntimeError(
                f"{self.submission}: scored {len(scored)} patients, held out "
                f"{len(self.fold_of)}, other files {ignored}; each patient must be "
                "predicted in exactly one fold"
            )
        report = self.folder / SCORES
        report.mkdir(exist_ok=True)
        numbers = write_report(report, rows)
        folds = []
        for fold in sorted(set(self.fold_of.values())):
            chosen = [row for row in rows if self.fold_of[row["patient"]] == fold]
            scores = volume_scores(chosen)
            folds.append(
                {
                    "fold": fold,
                    "patients": sorted({row["patient"] for row in chosen}),
                    **{key: scores[key] for key in ("dice", "hd95_mm", "structures")},
                }
            )
        return {
            **volume_scores(rows),
            "slice_dice": float(np.concatenate(self.per_slice).mean()),
            "clinical": numbers["clinical"],
            "folds": folds,
            "fold_mean": {
                "dice": _mean_std([entry["dice"] for entry in folds]),
                "hd95_mm": _mean_std([entry["hd95_mm"] for entry in folds]),
            },
            "submission": f"{self.folder.name}/{SUBMISSION}",
            "scores": f"{self.folder.name}/{SCORES}",
        }
