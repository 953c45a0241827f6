"""The ACDC challenge's scoring: per-structure scores, clinical indices, summaries, a
submission folder scored against the source labels, and prepared slices back as volumes.

- `scores`: the one ACDC scorer: Dice, HD, HD95, ASSD (mm) and volumes of a predicted
  label volume against its reference, per structure.
- `clinical`: clinical indices (EDV, ESV, EF, myocardial mass) per patient.
- `summary`: mean ± std per metric; correlation, bias and limits of agreement per index.
- `submission`: a prediction folder in the challenge's layout scored against the source
  labels; `report` writes its files (`inside-keras score acdc`).
- `slices`: the ACDC evaluation of prepared slices (volumes back at the source spacing,
  scored by `scores`) and its challenge table (Dice and HD95).
"""
