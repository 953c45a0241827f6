"""The paper's comparison, regenerated: one experiment per method, scored alike.

- `spec`: a reproduction spec — an experiment config, each method's changes to it,
  and an evaluation (built-in specs in `configs/`: CLEVR-Seg and ACDC, quick and full).
- `runner`: `run_reproduction` resolves the data once, trains the methods, scores
  them and writes `results.json`, `results.md` and the attention figures.
- `jobs`: the training itself, in parallel `inside-keras train` subprocesses.
- `datasets`: how CLEVR-Seg and ACDC predictions are scored, tabled and illustrated.
- `folds`: ACDC K-fold cross-validation: a prepared file per held-out fold, the
  held-out predictions of all folds pooled and scored once.

Finished runs of the same config are reused and unfinished ones resumed, so an
interrupted `reproduce` continues where it stopped.
"""
