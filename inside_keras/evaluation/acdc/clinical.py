"""ACDC's clinical indices from the volumes of the ED and ES segmentations.

Per patient, from the predicted and the reference label volumes (`volume_ml_pred` and
`volume_ml_ref` of `inside_keras.evaluation.acdc.scores` rows): the end-diastolic and
end-systolic volumes of the LV and RV cavities (EDV, ESV, ml), their ejection fractions
(EF = 100 (EDV − ESV) / EDV, %) and the myocardial mass at ED (MYO volume at ED times
1.05 g/ml), the indices the ACDC challenge compares (Bernard et al., IEEE TMI 2018).
An EF whose EDV is 0 (no cavity at ED) is undefined: `nan`.
"""

import math

#: Density of the myocardium in g/ml.
MYOCARDIUM_DENSITY = 1.05
#: Each clinical index: its name in the tables and its unit.
INDICES = {
    "lv_edv": ("LV EDV", "ml"),
    "lv_esv": ("LV ESV", "ml"),
    "lv_ef": ("LV EF", "%"),
    "rv_edv": ("RV EDV", "ml"),
    "rv_esv": ("RV ESV", "ml"),
    "rv_ef": ("RV EF", "%"),
    "myo_mass": ("Myocardial mass (ED)", "g"),
}
#: The two sources of each index, as column suffixes.
SOURCES = ("pred", "ref")
#: Columns of a patient's row (`clinical.csv`).
CLINICAL_FIELDS = ("patient", *(f"{index}_{source}" for index in INDICES for source in SOURCES))


def ejection_fraction(edv, esv):
    """`100 (edv − esv) / edv` in %, `nan` when `edv` is 0."""
    return 100.0 * (edv - esv) / edv if edv > 0 else math.nan


def indices(volumes):
    """The clinical indices of one segmentation of a patient.

    Args:
        volumes: `{(phase, structure): volume in ml}` for phases ED and ES and
            structures LV, RV and MYO.

    Returns:
        `{index: value}` for each index of `INDICES`.
    """
    values = {}
    for cavity in ("LV", "RV"):
        edv, esv = volumes[("ED", cavity)], volumes[("ES", cavity)]
        prefix = cavity.lower()
        values[f"{prefix}_edv"], values[f"{prefix}_esv"] = edv, esv
        values[f"{prefix}_ef"] = ejection_fraction(edv, esv)
    values["myo_mass"] = volumes[("ED", "MYO")] * MYOCARDIUM_DENSITY
    return {index: values[index] for index in INDICES}


def clinical_rows(score_rows):
    """One row of `CLINICAL_FIELDS` per patient, from the score rows of its ED and ES.

    Args:
        score_rows: rows of `inside_keras.evaluation.acdc.scores.score_volume` covering
            LV, RV and MYO at ED and ES of every patient.

    Returns:
        A list of dicts, in the order the patients first appear in `score_rows`.

    Raises:
        ValueError: a patient lacks a phase or a structure.
    """
    volumes = {}
    for row in score_rows:
        patient = volumes.setdefault(row["patient"], {source: {} for source in SOURCES})
        for source in SOURCES:
            patient[source][(row["phase"], row["structure"])] = row[f"volume_ml_{source}"]
    rows = []
    for name, patient in volumes.items():
        row = {"patient": name}
        for source in SOURCES:
            try:
                values = indices(patient[source])
            except KeyError as missing:
                raise ValueError(f"{name}: no score row for {missing.args[0]}") from None
            row.update({f"{index}_{source}": value for index, value in values.items()})
        rows.append({field: row[field] for field in CLINICAL_FIELDS})
    return rows
