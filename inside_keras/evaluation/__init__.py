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
- `sliding_window`: prediction of cases larger than the network should take whole, in
  overlapping windows blended back (INSIDE's Gaussians placed as for the whole case).
- `source_grid`: a prediction of a prepared volume put back on its source grid.
- `clevr_seg`: the CLEVR-Seg scores (per-image Dice and the authors' soft Dice,
  mean ± std).
- `acdc`: the ACDC challenge's scoring (a package: scores, clinical indices,
  summaries, submissions, prepared slices back as volumes).
- `plots`: the figures of runs and results (curves, attention maps, tables).

Import the submodules; the package itself imports nothing.
"""
