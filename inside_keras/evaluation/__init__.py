"""Evaluation of segmentation models, each metric written once.

- `masks`: Dice, Hausdorff, HD95 and ASSD of binary NumPy masks at their spacing
  (`surface_metrics`: the three distances at once);
  per-image Dice of label maps (`dice_scores`).
- `soft_dice`: the Dice formulas on tensors: `soft_dice`, shared by the Dice loss
  (`inside_keras.losses`) and the Keras metric; `epsilon_dice`, the authors' soft
  Dice of probabilities (an empty-empty image scores 0), also on NumPy arrays.
- `keras_metrics`: `DiceScore` and `SoftDiceScore` (`dice`, `dice_soft`), the Dice
  metrics for `compile`, and `dice_metrics`.
- `predict`: a model's task from its output shape (`task_of`), predictions, labels,
  attention maps.
- `clevr_seg`: the CLEVR-Seg scores (per-image Dice and the authors' soft Dice,
  mean ± std).
- `acdc_scores`: the one ACDC scorer: Dice, HD, HD95, ASSD (mm) and volumes of a
  predicted label volume against its reference, per structure.
- `acdc_clinical`: ACDC's clinical indices (EDV, ESV, EF, myocardial mass) per patient.
- `acdc_summary`: mean ± std per metric; correlation, bias and limits of agreement
  per clinical index.
- `acdc_submission`: a prediction folder in the challenge's layout scored against the
  source labels; `acdc_report` writes its files (`inside-keras score acdc`).
- `acdc`: the ACDC evaluation of prepared slices (volumes back at the source spacing,
  scored by `acdc_scores`) and its challenge table (Dice and HD95).

Import the submodules; the package itself imports nothing.
"""
