"""The sweep's data: a prepared file, or synthetic data generated and prepared once."""

from pathlib import Path


def prepared_data(dataset, data_dir, verbose=True):
    """Path of the prepared `.npz` file a sweep's trials train on.

    Args:
        dataset: the spec's `DatasetSpec`.
        data_dir: folder for generated data (reused when already there).
        verbose: print what is generated.
    """
    if dataset.path is not None:
        return Path(dataset.path)
    generate = dataset.generate
    if generate.dataset == "clevr-seg":
        from inside_keras.reproduce.clevr_seg import ensure_clevr_seg

        return ensure_clevr_seg(Path(data_dir) / "clevr-seg", generate, verbose=verbose)
    return _ensure_acdc(Path(data_dir) / "acdc", generate, verbose)


def _ensure_acdc(data_dir, generate, verbose):
    from inside_keras.data.acdc_phantom import generate_acdc
    from inside_keras.data.acdc_prepare import PrepareOptions, prepare_acdc
    from inside_keras.data.prepared import save_prepared

    prepared = data_dir / f"prepared_{generate.size}px_{generate.patients}.npz"
    if prepared.is_file():
        return prepared
    source = data_dir / f"phantoms_{generate.patients}"
    if not (source / "training").is_dir():
        if verbose:
            print(f"generating {generate.patients} ACDC phantom patients in {source}")
        generate_acdc(source, patients=generate.patients, seed=generate.seed)
    if verbose:
        print(f"preparing {prepared} (condition: phase, slice position)")
    result = prepare_acdc(source, options=PrepareOptions(size=generate.size, seed=generate.seed))
    save_prepared(prepared, **result.arrays)
    return prepared
