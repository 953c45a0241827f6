"""The prepared file an experiment trains on: given, or generated and prepared once.

`prepared_file(config.data, data_dir)` resolves an experiment's `data` section
(`inside_keras.config.DataConfig`): a `path` is used as it is; a `generate` section
makes synthetic CLEVR-Seg (coordinates condition) or ACDC phantoms (or prepares a
real ACDC folder given as `source`; condition phase and slice position) under
`data_dir/<dataset>/`. Everything is named after every setting that determines it
(seed included), so a second call with the same settings returns at once, different
settings never share a file, and a generation that was interrupted (left in its
`.partial` folder) is started again, never reused.
"""

import hashlib
import shutil
from pathlib import Path

from inside_keras.errors import InputError


def _key(*parts):
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:8]


def _build_once(target, build):
    """Build folder `target` by `build(partial_folder)` unless it is complete already."""
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # our own interrupted attempt
    build(partial)
    partial.rename(target)
    return target


def ensure_clevr_seg(data_dir, generate, workers=None, verbose=True):
    """Path of a prepared CLEVR-Seg (coordinates) file, generating it if missing.

    Args:
        data_dir: folder for the synthetic images and the prepared file.
        generate: the `GenerateConfig` (images, size, seed).
        workers: processes for generating and reading images; None uses every CPU.
            Workers are forked: pass 1 if a Keras backend is already loaded.
        verbose: print what is generated.
    """
    from inside_keras.data.clevr_seg import prepare as clevr_prepare
    from inside_keras.data.clevr_seg import reader as clevr_seg
    from inside_keras.data.clevr_seg import synthetic as clevr_synthetic
    from inside_keras.data.parallel import default_workers
    from inside_keras.data.prepared import save_prepared

    if generate.size < clevr_synthetic.MIN_SIZE:
        raise InputError(
            f"must be at least {clevr_synthetic.MIN_SIZE} for CLEVR-Seg, got {generate.size}",
            "data.generate.size",
        )
    workers = workers or default_workers()
    data_dir = Path(data_dir)
    name = f"{generate.size}px_{generate.images}_seed{generate.seed}"
    split = "" if generate.split == "shuffled" else f"_{generate.split}"
    prepared = data_dir / f"prepared_coordinates_{name}{split}.npz"
    if prepared.is_file():
        return prepared
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir / f"synthetic_{name}"
    if not source.is_dir() and verbose:
        print(f"generating {generate.images} synthetic CLEVR-Seg images in {source}", flush=True)
    options = clevr_synthetic.GenerateOptions(
        n=generate.images, size=generate.size, seed=generate.seed, workers=workers
    )
    _build_once(source, lambda partial: clevr_synthetic.generate(partial, options))
    if verbose:
        print(f"preparing {prepared} (condition: coordinates)", flush=True)
    prepare_options = clevr_prepare.PrepareOptions(
        "coordinates",
        size=generate.size,
        seed=generate.seed,
        workers=workers,
        split=generate.split,
    )
    result = clevr_prepare.prepare(clevr_seg.find_root(source), prepare_options)
    save_prepared(prepared, **result.arrays)
    return prepared


def acdc_source(data_dir, generate, verbose=True):
    """The ACDC root to prepare: `generate.source` if given (checked against the
    published layout), else phantom patients generated in `data_dir` (once).

    Args:
        data_dir: folder for generated phantoms.
        generate: the `GenerateConfig` (patients, seed, source).
        verbose: print what is generated.

    Raises:
        InputError: the source is not in the published layout.
    """
    if generate.source is not None:
        from inside_keras.data.acdc.reader import patient_folders

        patient_folders(generate.source)  # fails early, naming the folder, if not the layout
        return Path(generate.source).resolve()
    from inside_keras.data.acdc.phantom import generate_acdc

    root = (Path(data_dir) / f"phantoms_{generate.patients}_seed{generate.seed}").resolve()
    if not root.is_dir() and verbose:
        print(f"generating {generate.patients} ACDC phantom patients in {root}", flush=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    return _build_once(
        root, lambda partial: generate_acdc(partial, generate.patients, generate.seed)
    )


def ensure_acdc(data_dir, generate, source, verbose=True):
    """Path of the prepared ACDC file of `source` (see `acdc_source`), preparing it if
    missing.

    Args:
        data_dir: folder for the prepared file.
        generate: the `GenerateConfig` (size, spacing, split fractions, folds, seed).
        source: the ACDC root, as `acdc_source` returns it.
        verbose: print what is prepared.

    Raises:
        InputError: a patient of `source` has bad files.
    """
    from inside_keras.data.acdc.prepare import PrepareOptions, prepare_acdc
    from inside_keras.data.prepared import save_prepared

    source = Path(source)
    options = PrepareOptions(
        spacing=generate.spacing,
        size=generate.size,
        val_fraction=generate.val_fraction,
        test_fraction=generate.test_fraction,
        seed=generate.seed,
        folds=generate.folds,
    )
    key = _key(str(source), options)
    name = f"prepared_{source.name}_{generate.size}px_{generate.spacing:g}mm_{key}.npz"
    prepared = Path(data_dir) / name
    if not prepared.is_file():
        if verbose:
            print(f"preparing {prepared} from {source} (condition: phase, position)", flush=True)
        save_prepared(prepared, **prepare_acdc(source, "training", options).arrays)
    return prepared


def fold_file(prepared, fold, val_fraction, seed):
    """Path of the prepared file that holds out cross-validation fold `fold`, made once.

    The file is `prepared` (which has a per-slice `fold` array, `prepare acdc --folds`)
    with its `split` redrawn by `inside_keras.data.splits.fold_splits`: the patients
    of `fold` are `test`, `val_fraction` of the others `val`. It is written beside
    `prepared` as `<stem>_fold<k>.npz` (so it is cached by every setting, like
    `prepared`); fold 0's split is `prepared`'s own.

    Args:
        prepared: the prepared `.npz` file with folds.
        fold: the held-out fold.
        val_fraction: share of the other folds' patients for validation.
        seed: the seed of the validation draw (the folds' seed).
    """
    import numpy as np

    from inside_keras.data.prepared import load_prepared, save_prepared
    from inside_keras.data.splits import fold_splits

    prepared = Path(prepared)
    path = prepared.with_name(f"{prepared.stem}_fold{fold}.npz")
    if not path.is_file():
        arrays = load_prepared(prepared)
        fold_of = dict(zip(arrays["patient"].tolist(), arrays["fold"].tolist(), strict=True))
        splits = fold_splits(fold_of, fold, val_fraction, seed)
        arrays["split"] = np.array([splits[name] for name in arrays["patient"].tolist()])
        save_prepared(path, **arrays)
    return path


def prepared_file(data, data_dir, workers=None, verbose=True):
    """The prepared `.npz` file of an experiment's `data` section.

    Args:
        data: the `DataConfig`: a `path`, or a `generate` section.
        data_dir: the dataset root generated data goes under (`<data_dir>/<dataset>/`).
        workers: processes for generating CLEVR-Seg (see `ensure_clevr_seg`).
        verbose: print what is generated and prepared.

    Raises:
        InputError: neither `path` nor `generate` given, or bad generated data settings.
    """
    if data.path is not None:
        return Path(data.path)
    generate = data.generate
    if generate is None:
        raise InputError("give path (a prepared .npz file) or generate: {dataset: ...}", "data")
    folder = Path(data_dir) / generate.dataset
    if generate.dataset == "clevr-seg":
        return ensure_clevr_seg(folder, generate, workers, verbose)
    return ensure_acdc(folder, generate, acdc_source(folder, generate, verbose), verbose)
