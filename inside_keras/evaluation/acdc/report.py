"""Write the files of an ACDC scoring: per-volume scores, clinical indices, summary, plots.

| file | content |
|---|---|
| `scores.csv` | one row per patient, phase and structure (`acdc_scores.SCORE_FIELDS`) |
| `clinical.csv` | one row per patient (`acdc_clinical.CLINICAL_FIELDS`) |
| `summary.json` | `acdc_summary.summary`: mean ± std per metric, agreement per index |
| `summary.md` | the same as Markdown tables (`acdc_summary.summary_markdown`) |
| `bland_altman.png` | one Bland–Altman panel per clinical index |

Undefined values (`nan`) are written as `nan` in the CSV files and `null` in JSON.
Each file is written atomically.
"""

from pathlib import Path

from inside_keras.evaluation.acdc.clinical import CLINICAL_FIELDS, clinical_rows
from inside_keras.evaluation.acdc.scores import SCORE_FIELDS
from inside_keras.evaluation.acdc.summary import summary, summary_markdown
from inside_keras.evaluation.plots import plot_bland_altman
from inside_keras.runs.atomic import write_csv, write_json, write_text

#: The files written, in the order of the table above.
FILES = ("scores.csv", "clinical.csv", "summary.json", "summary.md", "bland_altman.png")
SCORES, CLINICAL, SUMMARY_JSON, SUMMARY_MD, FIGURE = FILES


def write_report(folder, rows):
    """Write the scoring's files into `folder` (which must exist).

    Args:
        folder: the output folder.
        rows: score rows of every patient at ED and ES
            (`inside_keras.evaluation.acdc.scores.score_volume`).

    Returns:
        The summary (`acdc_summary.summary`, as in `summary.json`).
    """
    folder = Path(folder)
    clinical = clinical_rows(rows)
    write_csv(folder / SCORES, SCORE_FIELDS, rows)
    write_csv(folder / CLINICAL, CLINICAL_FIELDS, clinical)
    numbers = summary(rows, clinical)
    write_json(folder / SUMMARY_JSON, numbers)
    panels = [
        (
            f"{entry['name']} ({entry['unit']})",
            [row[f"{index}_pred"] for row in clinical],
            [row[f"{index}_ref"] for row in clinical],
            entry,
        )
        for index, entry in numbers["clinical"].items()
    ]
    plot_bland_altman(panels, folder / FIGURE)
    lines = summary_markdown(numbers, figure=FIGURE)
    write_text(folder / SUMMARY_MD, "# ACDC scores\n\n" + "\n".join(lines) + "\n")
    return numbers
