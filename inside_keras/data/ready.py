"""Prepared files made once and reused: synthetic CLEVR-Seg and ACDC phantoms.

`reproduce` and `sweep` both train on a prepared `.npz` that they make on first use:
`ensure_clevr_seg` generates synthetic CLEVR-Seg images and prepares them with the
coordinates condition; `acdc_source` generates ACDC phantom patients (or checks a
given ACDC folder) and `ensure_acdc` prepares it with the phase + slice-position
condition. Files are named after their settings, so a second call with the same
settings returns at once and different settings never share a file.
"""

import dataclasses
import hashlib
import shutil
from pathlib import Path

from inside_keras.errors import InputError


def _check_positive(values):
    for name, value in values.items():
        if isinstance(value, bool) or not value > 0:
            raise InputError(f"must be positive, got {value!r}", name)


@dataclasses.dataclass(frozen=True)
class ClevrSegData:
    """Synthetic CLEVR-Seg, prepared with the coordinates condition.

    Args:
        images: images to generate.
        size: prepared image side in pixels (also the generated size; at least
            `clevr_synthetic.MIN_SIZE`).
        seed: generation and split seed.
    """

    images: int
    size: int
    seed: int = 0

    def __post_init__(self):
        from inside_keras.data.clevr_seg.synthetic import MIN_SIZE

        _check_positive({"images": self.images})
        if self.size < MIN_SIZE:
            raise InputError(f"must be at least {MIN_SIZE}, got {self.size!r}", "size")


@dataclasses.dataclass(frozen=True)
class ACDCData:
    """ACDC patients (phantoms unless a source folder is given), prepared as slices
    with the condition `[ED, ES, position]`.

    Args:
        patients: phantom patients to generate when no source folder is given.
        size: prepared slice height and width in pixels.
        spacing: prepared in-plane pixel size in mm. `size * spacing` is the field of
            view; the phantoms' hearts span up to about 110 mm, off-centre by up to
            20 mm: 160 mm holds them.
        val_fraction: share of patients for validation.
        test_fraction: share of patients for testing.
        seed: phantom and split seed.
    """

    patients: int
    size: int
    spacing: float = 1.25
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self):
        _check_positive({"patients": self.patients, "size": self.size, "spacing": self.spacing})

    def prepare_options(self):
        """The `acdc_prepare.PrepareOptions` of these settings."""
        from inside_keras.data.acdc.prepare import PrepareOptions

        return PrepareOptions(
            spacing=self.spacing,
            size=self.size,
            val_fraction=self.val_fraction,
            test_fraction=self.test_fraction,
            seed=self.seed,
        )


def ensure_clevr_seg(data_dir, data, workers=None, verbose=True):
    """Path of a prepared CLEVR-Seg (coordinates) file, generating it if missing.

    Args:
        data_dir: folder for the synthetic images and the prepared file.
        data: `ClevrSegData`.
        workers: processes for generating and reading images; None uses every CPU.
            Workers are forked: pass 1 if a Keras backend is already loaded.
        verbose: print what is generated.
    """
    from inside_keras.data.clevr_seg import prepare as clevr_prepare
    from inside_keras.data.clevr_seg import reader as clevr_seg
    from inside_keras.data.clevr_seg import synthetic as clevr_synthetic
    from inside_keras.data.parallel import default_workers
    from inside_keras.data.prepared import save_prepared

    workers = workers or default_workers()
    data_dir = Path(data_dir)
    prepared = data_dir / f"prepared_coordinates_{data.size}px_{data.images}.npz"
    if prepared.is_file():
        return prepared
    source = data_dir / f"synthetic_{data.size}px_{data.images}"
    if not (source / "images").is_dir():
        if verbose:
            print(f"generating {data.images} synthetic CLEVR-Seg images in {source}", flush=True)
        clevr_synthetic.generate(
            source,
            clevr_synthetic.GenerateOptions(
                n=data.images, size=data.size, seed=data.seed, workers=workers
            ),
        )
    if verbose:
        print(f"preparing {prepared} (condition: coordinates)", flush=True)
    options = clevr_prepare.PrepareOptions(
        "coordinates", size=data.size, seed=data.seed, workers=workers
    )
    result = clevr_prepare.prepare(clevr_seg.find_root(source), options)
    save_prepared(prepared, **result.arrays)
    return prepared


def acdc_source(data_dir, data, source=None, verbose=True):
    """The ACDC root to prepare: `source` if given (checked against the published
    layout), else phantom patients generated in `data_dir` (once, atomically).

    Args:
        data_dir: folder for generated phantoms.
        data: `ACDCData` (patients, seed).
        source: an ACDC root holding `training/patientNNN/`, or None.
        verbose: print what is generated.

    Raises:
        InputError: `source` is not in the published layout.
    """
    if source is not None:
        from inside_keras.data.acdc.reader import patient_folders

        patient_folders(source)  # fails early, naming the folder, if not the layout
        return Path(source).resolve()
    from inside_keras.data.acdc.phantom import generate_acdc

    root = (Path(data_dir) / f"phantoms_{data.patients}_seed{data.seed}").resolve()
    if (root / "training").is_dir():
        return root
    if verbose:
        print(f"generating {data.patients} ACDC phantom patients in {root}", flush=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    generate_acdc(partial, patients=data.patients, seed=data.seed)
    partial.rename(root)
    return root


def ensure_acdc(data_dir, data, source, verbose=True):
    """Path of the prepared ACDC file of `source` (see `acdc_source`), preparing it if
    missing.

    Args:
        data_dir: folder for the prepared file.
        data: `ACDCData` (size, spacing, split fractions, seed).
        source: the ACDC root, as `acdc_source` returns it.
        verbose: print what is prepared.

    Raises:
        InputError: a patient of `source` has bad files.
    """
    from inside_keras.data.acdc.prepare import prepare_acdc
    from inside_keras.data.prepared import save_prepared

    source = Path(source)
    options = data.prepare_options()
    key = hashlib.sha1(repr((str(source), options)).encode()).hexdigest()[:8]
    prepared = Path(data_dir) / f"prepared_{source.name}_{data.size}px_{data.spacing:g}mm_{key}.npz"
    if not prepared.is_file():
        if verbose:
            print(f"preparing {prepared} from {source} (condition: phase, position)", flush=True)
        save_prepared(prepared, **prepare_acdc(source, "training", options).arrays)
    return prepared
