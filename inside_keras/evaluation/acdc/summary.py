"""Summary statistics of ACDC scores, as the tables of Bernard et al. (IEEE TMI 2018).

- `metric_summary`: mean ± std over patients of each metric per phase and structure
  (population std, ddof 0); undefined values (`nan`: a structure empty in exactly one
  of the two volumes) are left out and counted.
- `agreement`: for a clinical index, the Pearson correlation between prediction and
  reference, the bias (mean of prediction − reference) and the 95 % limits of agreement
  (bias ± 1.96 SD of the differences, sample SD with ddof 1; Bland and Altman, Lancet
  1986). Patients whose index is undefined in either are left out and counted.
- `summary` gathers both, JSON-ready; `summary_markdown` writes it as Markdown tables.
"""

import numpy as np

from inside_keras.data.acdc.reader import PHASES
from inside_keras.evaluation.acdc.clinical import INDICES
from inside_keras.evaluation.acdc.scores import METRICS, TABLE_STRUCTURES

#: z of the 95 % limits of agreement.
LIMITS_Z = 1.96
#: Column titles of the metrics in the Markdown table, and their decimals.
METRIC_TITLES = {
    "dice": ("Dice", 3),
    "hd": ("HD (mm)", 2),
    "hd95": ("HD95 (mm)", 2),
    "assd": ("ASSD (mm)", 2),
}


def mean_std(values):
    """Mean and population std of the defined (not `nan`) `values`.

    Returns:
        `{"mean", "std", "n", "undefined"}`: `n` values defined, `undefined` left out;
        mean and std are `nan` when none is defined.
    """
    values = np.asarray(values, dtype=np.float64)
    defined = values[~np.isnan(values)]
    empty = not defined.size
    return {
        "mean": np.nan if empty else float(defined.mean()),
        "std": np.nan if empty else float(defined.std()),
        "n": int(defined.size),
        "undefined": int(values.size - defined.size),
    }


def metric_summary(rows, metrics=METRICS):
    """Mean ± std of each metric per phase and structure.

    Args:
        rows: score rows (`inside_keras.evaluation.acdc.scores.SCORE_FIELDS`).
        metrics: the metrics summarised.

    Returns:
        `{phase: {structure: {metric: mean_std(...)}}}` for `PHASES` and
        `TABLE_STRUCTURES`.
    """
    table = {}
    for phase in PHASES:
        table[phase] = {}
        for structure in TABLE_STRUCTURES:
            cell = [r for r in rows if r["phase"] == phase and r["structure"] == structure]
            table[phase][structure] = {m: mean_std([r[m] for r in cell]) for m in metrics}
    return table


def agreement(pred, ref):
    """Agreement of predicted and reference values of one index over patients.

    Args:
        pred, ref: the values per patient, same length; `nan` where undefined.

    Returns:
        `{"n", "undefined", "correlation", "bias", "sd", "loa_low", "loa_high"}`: `n`
        patients with both values defined (`undefined` the others); the Pearson
        correlation (`nan` with fewer than 2 patients or a constant series); the bias,
        mean of `pred − ref` (`nan` without patients); `sd`, the sample std of the
        differences, and the limits `bias ± 1.96 sd` (`nan` with fewer than 2 patients).
    """
    pred, ref = np.asarray(pred, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    defined = ~(np.isnan(pred) | np.isnan(ref))
    pred, ref = pred[defined], ref[defined]
    n = int(pred.size)
    difference = pred - ref
    bias = float(difference.mean()) if n else np.nan
    sd = float(difference.std(ddof=1)) if n > 1 else np.nan
    varies = n > 1 and np.ptp(pred) > 0 and np.ptp(ref) > 0
    correlation = float(np.clip(np.corrcoef(pred, ref)[0, 1], -1, 1)) if varies else np.nan
    return {
        "n": n,
        "undefined": int(defined.size - n),
        "correlation": correlation,
        "bias": bias,
        "sd": sd,
        "loa_low": bias - LIMITS_Z * sd,
        "loa_high": bias + LIMITS_Z * sd,
    }


def clinical_agreement(clinical_rows):
    """`{index: {"name", "unit", **agreement(...)}}` for each index of `INDICES`.

    Args:
        clinical_rows: rows of `inside_keras.evaluation.acdc.clinical.clinical_rows`.
    """
    return {
        index: {
            "name": name,
            "unit": unit,
            **agreement(
                [row[f"{index}_pred"] for row in clinical_rows],
                [row[f"{index}_ref"] for row in clinical_rows],
            ),
        }
        for index, (name, unit) in INDICES.items()
    }


def json_ready(value):
    """`value` with every float `nan` replaced by None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def summary(score_rows, clinical_rows):
    """The summary of an ACDC scoring, JSON-ready (undefined statistics are None).

    Returns:
        `{"patients": count, "segmentation": metric_summary(score_rows), "clinical":
        clinical_agreement(clinical_rows)}`.
    """
    return json_ready(
        {
            "patients": len({row["patient"] for row in score_rows}),
            "segmentation": metric_summary(score_rows),
            "clinical": clinical_agreement(clinical_rows),
        }
    )


def _number(value, digits, signed=False):
    if value is None:
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def summary_markdown(summary, figure=None):
    """`summary` as Markdown lines: the segmentation table, then the clinical indices.

    Args:
        summary: the dict of `summary` (or read back from JSON).
        figure: file name of the Bland–Altman plots, linked under the tables, or None.
    """
    titles = [title for title, _ in METRIC_TITLES.values()]
    lines = [
        f"Segmentation of {summary['patients']} patients, mean ± std per volume:",
        "",
        "| Phase | Structure | " + " | ".join(titles) + " |",
        "|" + "---|" * (2 + len(titles)),
    ]
    undefined = []
    for phase, structures in summary["segmentation"].items():
        for structure, metrics in structures.items():
            cells = [phase, structure]
            for metric, (_, digits) in METRIC_TITLES.items():
                stats = metrics[metric]
                cells.append(
                    "n/a"
                    if stats["mean"] is None
                    else f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"
                )
            lines.append("| " + " | ".join(cells) + " |")
            if metrics["hd"]["undefined"]:
                undefined.append(f"{phase} {structure}: {metrics['hd']['undefined']}")
    if undefined:
        lines += [
            "",
            "HD, HD95 and ASSD undefined (the structure empty in exactly one of the two "
            f"volumes), left out of the means: {', '.join(undefined)}.",
        ]
    lines += [
        "",
        "Clinical indices, prediction against reference (bias: mean of prediction − "
        "reference; limits of agreement: bias ± 1.96 SD of the differences):",
        "",
        "| Index | Correlation | Bias | Limits of agreement | Patients |",
        "|---|---|---|---|---|",
    ]
    for entry in summary["clinical"].values():
        limits = (
            "n/a"
            if entry["loa_low"] is None
            else f"{_number(entry['loa_low'], 2)} to {_number(entry['loa_high'], 2)}"
        )
        lines.append(
            f"| {entry['name']} ({entry['unit']}) | {_number(entry['correlation'], 3)} | "
            f"{_number(entry['bias'], 2, signed=True)} | {limits} | {entry['n']} |"
        )
    if figure is not None:
        lines += ["", f"![Bland–Altman plots of the clinical indices]({figure})"]
    return lines
