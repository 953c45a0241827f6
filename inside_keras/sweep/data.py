"""The sweep's data: a prepared file, or synthetic data generated and prepared once."""

from pathlib import Path

from inside_keras.data.ready import ClevrSegData, acdc_source, ensure_acdc, ensure_clevr_seg


def prepared_data(dataset, data_dir, verbose=True):
    """Path of the prepared `.npz` file a sweep's trials train on.

    Args:
        dataset: the spec's `DatasetSpec`.
        data_dir: folder for generated data (reused when already there).
        verbose: print what is generated.
    """
    if dataset.path is not None:
        return Path(dataset.path)
    data = dataset.generate.data_settings()
    folder = Path(data_dir) / dataset.generate.dataset
    if isinstance(data, ClevrSegData):
        return ensure_clevr_seg(folder, data, verbose=verbose)
    return ensure_acdc(folder, data, acdc_source(folder, data, verbose=verbose), verbose)
