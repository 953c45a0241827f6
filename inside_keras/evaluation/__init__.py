"""Evaluation of segmentation models, each metric written once.

- `masks`: Dice, Hausdorff, HD95 and ASSD of binary NumPy masks at their spacing;
  per-image Dice of label maps (`dice_scores`).
- `soft_dice`: the Dice formula on tensors, shared by the Dice loss
  (`inside_keras.losses`) and the Keras metric.
- `keras_metrics`: `DiceScore`, the Dice metric for `compile`, and `dice_metrics`.
- `predict`: a model's task from its output shape (`task_of`), predictions, labels,
  attention maps.
- `clevr_seg`: the CLEVR-Seg score (per-image Dice, mean ± std).
- `acdc`: the ACDC challenge evaluation (volumes at the source spacing, Dice and
  HD95 per structure and phase) and its table.

Import the submodules; the package itself imports nothing.
"""
