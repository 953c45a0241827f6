"""Bad inputs and unsafe outputs given to the installed `inside-keras` command.

Every case runs the console script in a subprocess, as a user would, and checks the
error contract (docs/limits.md): exit code 2 (130 after Ctrl-C), exactly one non-empty
line on stderr, no traceback, and nothing new or changed where the command was told to
write (a folder is compared file by file, with content hashes, before and after).

Each case builds its inputs in its own `tmp_path` (`in/`) and names an output inside
`work/`; the whole `work/` folder is compared, so stray temporary files count too.
Ctrl-C cases check the exit code, the one line and that no temporary (`.partial`) file
is left behind; what an interrupted command keeps is up to its output rules.
"""

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
import zlib

import nibabel as nib
import numpy as np
import pytest
import yaml
from PIL import Image

from inside_keras.cli import main
from tests.data import acdc_folders, clevr_folder
from tests.runs import CLI, tiny_dataset, write_config

#: Seconds a case may take (train, evaluate and predict import Keras).
TIMEOUT = 120


# --- helpers ---------------------------------------------------------------------------


def snapshot(folder):
    """`{relative path: content hash or "dir"}` of everything under `folder` (None if
    missing, the hash if it is a file)."""
    if not os.path.lexists(folder):
        return None
    if not folder.is_dir():
        return hashlib.sha256(folder.read_bytes()).hexdigest()
    listing = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        listing[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return listing


def run_cli(args, cwd, env=None):
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        CLI + [str(arg) for arg in args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def check_one_line(stderr, code, returncode):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert returncode == code, f"exit {returncode}, stderr:\n{stderr}"
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{stderr}"
    assert stderr.strip().startswith("inside-keras"), stderr


def png_claiming(path, width, height):
    """A valid 2x2 PNG whose IHDR is patched to claim `width` x `height` (CRC fixed)."""
    Image.new("RGB", (2, 2), (10, 20, 30)).save(path)
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"IHDR"
    data[16:20] = width.to_bytes(4, "big")
    data[20:24] = height.to_bytes(4, "big")
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    path.write_bytes(bytes(data))


def nifti_bytes(array, dims=None, spacing=(1.5, 1.5, 8.0)):
    """Gzipped NIfTI-1 bytes of `array`, its header `dim` entries replaced by `dims`."""
    array = np.asarray(array)
    image = nib.Nifti1Image(array, np.diag(list(spacing) + [1.0]))
    image.header.set_zooms((tuple(spacing) + (1.0,) * array.ndim)[: array.ndim])
    data = bytearray(image.to_bytes())
    if dims is not None:
        header = np.frombuffer(bytes(data[40:56]), dtype="<i2").copy()
        header[0] = len(dims)
        header[1 : 1 + len(dims)] = dims
        data[40:56] = header.tobytes()
    return gzip.compress(bytes(data))


def zip_of(folder, path, extra=()):
    """Zip `folder` (as `clevr/...`) into `path`, plus `(name, bytes)` entries."""
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*")):
            archive.write(file, "clevr/" + str(file.relative_to(folder)))
        for name, data in extra:
            archive.writestr(name, data)
    return path


def zip_claiming(path, size):
    """A zip of three entries whose central directory claims `size` bytes each."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for k in range(3):
            archive.writestr(f"clevr/images/{k}.png", b"x")
    data = bytearray(path.read_bytes())
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 24 : start + 28] = size.to_bytes(4, "little")
        start += 4
    path.write_bytes(bytes(data))


# --- shared inputs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Inputs every case may copy: a CLEVR-Seg folder, an ACDC root, a prepared file, a
    finished 1-epoch run (trained here, in this process) and its model."""
    root = tmp_path_factory.mktemp("shared")
    clevr = root / "clevr"
    clevr_folder.write_folder(clevr, names=["scene_a", "scene_c"])
    acdc = root / "acdc"
    acdc_folders.write_patient(acdc, 1)
    acdc_folders.write_patient(acdc, 2)
    run = root / "run"
    data = tiny_dataset(root / "data.npz")
    assert main(["train", "--config", str(write_config(root, 1, run, data)), "--quiet"]) == 0
    return {"clevr": clevr, "acdc": acdc, "data": data, "run": run, "model": run / "model.keras"}


class Case:
    """Paths of one case: `inputs` (free to damage) and `work` (where outputs go)."""

    def __init__(self, tmp_path, shared):
        self.tmp = tmp_path
        self.inputs = tmp_path / "in"
        self.work = tmp_path / "work"
        self.inputs.mkdir()
        self.work.mkdir()
        self.shared = shared

    def copy(self, name):
        """A private copy of a shared input."""
        source = self.shared[name]
        target = self.inputs / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)
        return target

    def text(self, name, content):
        path = self.inputs / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def file_in_work(self, name="a-file"):
        path = self.work / name
        path.write_text("the user's file\n")
        return path

    def read_only(self, name="locked"):
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        folder = self.work / name
        folder.mkdir()
        folder.chmod(0o500)
        return folder

    def config(self, text):
        """An experiment config on the shared data, writing into work/run, plus `text`."""
        return self.text(
            "config.yaml",
            f"data: {{path: {self.shared['data']}}}\n"
            "model: {architecture: encoder_decoder, conditioning: inside}\n"
            "training: {epochs: 1, batch_size: 8, seed: 0}\n"
            f"output: {{dir: {self.work / 'run'}}}\n" + text,
        )

    def clevr(self):
        return self.copy("clevr")

    def acdc(self):
        return self.copy("acdc")

    def patient(self):
        root = self.acdc()
        return root, root / "training" / "patient001"

    def spec(self, text=None, **sections):
        """A sweep spec on the shared data (sections given as YAML text replace defaults)."""
        parts = {
            "experiment": f"{{data: {{path: {self.shared['data']}}}, training: {{epochs: 1}}}}",
            "space": "{training.learning_rate: {choice: [0.001, 0.003]}}",
            "search": "{num_samples: 1}",
        }
        parts.update(sections)
        body = text if text is not None else "".join(f"{k}: {v}\n" for k, v in parts.items())
        return self.text("spec.yaml", body)


CASES = []


def case(name):
    """Register a case: a function `(Case) -> argv` (paths allowed)."""

    def add(function):
        CASES.append(pytest.param(function, id=name))
        return function

    return add


def flag_cases(prefix, build, flags):
    """One case per `(name, extra argv)` of `flags`, argv from `build(c) + extra`."""
    for name, extra in flags:
        case(f"{prefix}-{name}")(lambda c, extra=extra: build(c) + list(extra))


# --- generate clevr-seg ----------------------------------------------------------------


def _generate_clevr(c):
    return ["generate", "clevr-seg", "--out", c.work / "clevr", "--n", 2, "--size", 32]


flag_cases(
    "generate-clevr",
    _generate_clevr,
    [
        ("n-0", ["--n", "0"]),
        ("n-negative", ["--n", "-3"]),
        ("size-0", ["--size", "0"]),
        ("size-negative", ["--size", "-5"]),
        ("size-huge", ["--size", "1000000"]),
        ("workers-0", ["--workers", "0"]),
        ("seed-negative", ["--seed", "-1"]),
        ("n-not-a-number", ["--n", "many"]),
    ],
)


@case("generate-clevr-out-is-a-file")
def _(c):
    return ["generate", "clevr-seg", "--out", c.file_in_work(), "--n", 1, "--size", 32]


@case("generate-clevr-out-under-a-file")
def _(c):
    return ["generate", "clevr-seg", "--out", c.file_in_work() / "sub", "--n", 1, "--size", 32]


@case("generate-clevr-out-read-only")
def _(c):
    return ["generate", "clevr-seg", "--out", c.read_only() / "x", "--n", 1, "--size", 32]


# --- generate acdc ---------------------------------------------------------------------


def _generate_acdc(c):
    return ["generate", "acdc", "--out", c.work / "acdc", "--patients", 1]


flag_cases(
    "generate-acdc",
    _generate_acdc,
    [
        ("patients-0", ["--patients", "0"]),
        ("patients-negative", ["--patients", "-2"]),
        ("seed-negative", ["--seed", "-1"]),
    ],
)


@case("generate-acdc-out-is-a-file")
def _(c):
    return ["generate", "acdc", "--out", c.file_in_work(), "--patients", 1]


@case("generate-acdc-out-under-a-file")
def _(c):
    return ["generate", "acdc", "--out", c.file_in_work() / "sub", "--patients", 1]


@case("generate-acdc-out-read-only")
def _(c):
    return ["generate", "acdc", "--out", c.read_only() / "x", "--patients", 1]


# --- prepare clevr-seg -----------------------------------------------------------------


def _prepare_clevr(c, source=None):
    source = source if source is not None else c.clevr()
    out = c.work / "clevr.npz"
    return ["prepare", "clevr-seg", "--source", source, "--condition", "colour", "--out", out]


flag_cases(
    "prepare-clevr",
    _prepare_clevr,
    [
        ("limit-0", ["--limit", "0"]),
        ("limit-negative", ["--limit", "-1"]),
        ("size-0", ["--size", "0"]),
        ("size-huge", ["--size", "1000000"]),
        ("workers-0", ["--workers", "0"]),
        ("seed-negative", ["--seed", "-1"]),
        ("condition-unknown", ["--condition", "height"]),
    ],
)


@case("prepare-clevr-zip-not-a-zip")
def _(c):
    return _prepare_clevr(c, c.text("data.zip", os.urandom(2000)))


@case("prepare-clevr-zip-truncated")
def _(c):
    archive = zip_of(c.clevr(), c.inputs / "data.zip")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return _prepare_clevr(c, archive)


@case("prepare-clevr-zip-member-escapes")
def _(c):
    return _prepare_clevr(c, zip_of(c.clevr(), c.inputs / "data.zip", [("../evil.txt", b"x")]))


@case("prepare-clevr-zip-member-absolute")
def _(c):
    return _prepare_clevr(c, zip_of(c.clevr(), c.inputs / "data.zip", [("/tmp/evil", b"x")]))


@case("prepare-clevr-zip-claims-huge-sizes")
def _(c):
    zip_claiming(c.inputs / "data.zip", 0xFFFFFFF0)
    return _prepare_clevr(c, c.inputs / "data.zip")


@case("prepare-clevr-zip-damaged-member")
def _(c):
    archive = zip_of(c.clevr(), c.inputs / "data.zip")
    data = bytearray(archive.read_bytes())
    data[200:260] = bytes(60)  # inside the first stored member: its CRC no longer matches
    archive.write_bytes(bytes(data))
    return _prepare_clevr(c, archive)


def _clevr_with(c, change):
    root = c.clevr()
    change(root)
    return _prepare_clevr(c, root)


@case("prepare-clevr-png-claims-huge-size")
def _(c):
    return _clevr_with(c, lambda r: png_claiming(r / "images/scene_a.png", 100_000, 100_000))


@case("prepare-clevr-png-claims-size-past-limit")
def _(c):
    return _clevr_with(c, lambda r: png_claiming(r / "images/scene_a.png", 12_000, 10_000))


@case("prepare-clevr-mask-png-claims-huge-size")
def _(c):
    return _clevr_with(c, lambda r: png_claiming(r / "segmentations/scene_a/0.png", 65_535, 65_535))


@case("prepare-clevr-png-truncated")
def _(c):
    def cut(root):
        path = root / "images/scene_a.png"
        path.write_bytes(path.read_bytes()[:60])

    return _clevr_with(c, cut)


@case("prepare-clevr-png-not-an-image")
def _(c):
    return _clevr_with(c, lambda r: (r / "images/scene_a.png").write_text("hello"))


@case("prepare-clevr-png-is-a-jpeg")
def _(c):
    return _clevr_with(
        c, lambda r: Image.new("RGB", (48, 40)).save(r / "images/scene_a.png", "JPEG")
    )


@case("prepare-clevr-scene-json-malformed")
def _(c):
    return _clevr_with(c, lambda r: (r / "scenes/scene_a.json").write_text('{"objects": ['))


@case("prepare-clevr-scene-json-not-a-mapping")
def _(c):
    return _clevr_with(c, lambda r: (r / "scenes/scene_a.json").write_text("[1, 2, 3]"))


@case("prepare-clevr-scene-json-huge")
def _(c):
    def huge(root):
        filler = "x" * (2 << 20)
        (root / "scenes/scene_a.json").write_text(json.dumps({"objects": [], "pad": filler}))

    return _clevr_with(c, huge)


@case("prepare-clevr-scene-json-deeply-nested")
def _(c):
    return _clevr_with(c, lambda r: (r / "scenes/scene_a.json").write_text("[" * 100_000))


@case("prepare-clevr-scene-json-binary")
def _(c):
    return _clevr_with(
        c, lambda r: (r / "scenes/scene_a.json").write_bytes(b"\xff\xfe\x00\x81" * 9)
    )


@case("prepare-clevr-scene-json-nan-coordinates")
def _(c):
    def nan(root):
        path = root / "scenes/scene_a.json"
        scene = json.loads(path.read_text())
        scene["objects"][0]["pixel_coords"] = [float("nan"), 3.0, 1.0]
        path.write_text(json.dumps(scene))

    return _clevr_with(c, nan)


@case("prepare-clevr-out-is-a-folder")
def _(c):
    (c.work / "clevr.npz").mkdir()
    return _prepare_clevr(c)


@case("prepare-clevr-out-under-a-file")
def _(c):
    argv = _prepare_clevr(c)
    argv[-1] = c.file_in_work() / "clevr.npz"
    return argv


@case("prepare-clevr-out-read-only")
def _(c):
    argv = _prepare_clevr(c)
    argv[-1] = c.read_only() / "clevr.npz"
    return argv


# --- prepare acdc ----------------------------------------------------------------------


def _prepare_acdc(c, root=None):
    root = root if root is not None else c.acdc()
    return ["prepare", "acdc", "--source", root, "--out", c.work / "acdc.npz", "--size", 16]


flag_cases(
    "prepare-acdc",
    _prepare_acdc,
    [
        ("spacing-0", ["--spacing", "0"]),
        ("spacing-negative", ["--spacing", "-1"]),
        ("spacing-nan", ["--spacing", "nan"]),
        ("spacing-inf", ["--spacing", "inf"]),
        ("spacing-tiny", ["--spacing", "1e-6"]),
        ("size-0", ["--size", "0"]),
        ("size-huge", ["--size", "1000000"]),
        ("val-fraction-1.5", ["--val-fraction", "1.5"]),
        ("val-fraction-nan", ["--val-fraction", "nan"]),
        ("test-fraction-negative", ["--test-fraction", "-0.1"]),
        ("fractions-sum-past-1", ["--val-fraction", "0.6", "--test-fraction", "0.5"]),
        ("seed-negative", ["--seed", "-1"]),
        ("condition-unknown", ["--condition", "phase,age"]),
        ("position-unknown", ["--position", "spiral"]),
        ("split-unknown", ["--split", "validation"]),
    ],
)


def _acdc_with(c, change):
    root, folder = c.patient()
    change(folder)
    return _prepare_acdc(c, root)


def _info(text):
    return lambda folder: (folder / "Info.cfg").write_bytes(
        text if isinstance(text, bytes) else text.encode()
    )


INFO = "ED: 1\nES: 3\nGroup: NOR\nHeight: 180.0\nNbFrame: 4\nWeight: 70\n"

for _name, _text in [
    ("too-big", INFO + "Note: " + "x" * (2 << 20) + "\n"),
    ("binary", bytes(range(256)) * 4),
    ("odd-characters", "ED: \u00b2\nES: 3\n"),
    ("control-characters", "ED: 1\x00\x1b[31m\u2028\nES: 3\n"),
    ("zero-width-key", "E\u200bD: 1\nES: 3\n"),
    ("missing-es", "ED: 1\nGroup: NOR\n"),
    ("frame-0", "ED: 0\nES: 3\n"),
    ("frame-past-cine", "ED: 1\nES: 9\n"),
    ("height-not-a-number", INFO.replace("180.0", "tall")),
    ("weight-not-a-number", INFO.replace("Weight: 70", "Weight: heavy")),
    ("height-nan", INFO.replace("180.0", "nan")),
    ("weight-negative", INFO.replace("Weight: 70", "Weight: -70")),
]:
    case(f"prepare-acdc-info-cfg-{_name}")(lambda c, text=_text: _acdc_with(c, _info(text)))


def _frame(data):
    def write(folder):
        (folder / "patient001_frame01.nii.gz").write_bytes(data)

    return write


@case("prepare-acdc-nifti-header-larger-than-data")
def _(c):
    return _acdc_with(c, _frame(nifti_bytes(np.ones((2, 2, 2), np.float32), dims=(20, 24, 5))))


@case("prepare-acdc-nifti-huge-dims")
def _(c):
    return _acdc_with(
        c, _frame(nifti_bytes(np.ones((2, 2, 2), np.float32), dims=(30000, 30000, 30000)))
    )


@case("prepare-acdc-nifti-huge-cine-dims")
def _(c):
    def write(folder):
        data = nifti_bytes(np.ones((2, 2, 2, 2), np.int16), dims=(200, 240, 50, 30000))
        (folder / "patient001_4d.nii.gz").write_bytes(data)

    return _acdc_with(c, write)


def _voxel(value):
    def write(folder):
        path = folder / "patient001_frame01.nii.gz"
        image = nib.load(path)
        data = image.get_fdata(dtype=np.float32)
        data[3, 4, 1] = value
        acdc_folders.save_nifti(data, path)

    return write


@case("prepare-acdc-nifti-nan-voxel")
def _(c):
    return _acdc_with(c, _voxel(np.nan))


@case("prepare-acdc-nifti-inf-voxel")
def _(c):
    return _acdc_with(c, _voxel(np.inf))


@case("prepare-acdc-nifti-negative-inf-voxel")
def _(c):
    return _acdc_with(c, _voxel(-np.inf))


@case("prepare-acdc-nifti-not-nifti")
def _(c):
    return _acdc_with(c, _frame(gzip.compress(b"not a nifti file at all" * 20)))


@case("prepare-acdc-nifti-truncated-gzip")
def _(c):
    def cut(folder):
        path = folder / "patient001_frame01.nii.gz"
        path.write_bytes(path.read_bytes()[:300])

    return _acdc_with(c, cut)


@case("prepare-acdc-out-is-a-folder")
def _(c):
    (c.work / "acdc.npz").mkdir()
    return _prepare_acdc(c)


@case("prepare-acdc-out-under-a-file")
def _(c):
    argv = _prepare_acdc(c)
    argv[argv.index("--out") + 1] = c.file_in_work() / "acdc.npz"
    return argv


@case("prepare-acdc-out-read-only")
def _(c):
    argv = _prepare_acdc(c)
    argv[argv.index("--out") + 1] = c.read_only() / "acdc.npz"
    return argv


# --- score acdc ------------------------------------------------------------------------


def _score_acdc(c, change=None):
    """Score predictions that copy the ground truth of the shared ACDC root, after
    `change(root, predictions)`."""
    root, predictions = c.acdc(), c.inputs / "predictions"
    predictions.mkdir()
    for name in ("patient001", "patient002"):
        for phase, number in (("ED", acdc_folders.ED), ("ES", acdc_folders.ES)):
            truth = root / "training" / name / f"{name}_frame{number:02d}_gt.nii.gz"
            shutil.copyfile(truth, predictions / f"{name}_{phase}.nii.gz")
    if change is not None:
        change(root, predictions)
    argv = ["score", "acdc", "--predictions", predictions, "--source", root]
    return argv + ["--out", c.work / "scores"]


flag_cases(
    "score-acdc",
    _score_acdc,
    [
        ("split-unknown", ["--split", "validation"]),
        ("split-absent", ["--split", "testing"]),
        ("predictions-missing", ["--predictions", "/nonexistent/predictions"]),
    ],
)


def _prediction(data):
    def write(root, predictions):
        (predictions / "patient002_ED.nii.gz").write_bytes(data)

    return write


for _name, _change in [
    ("prediction-not-nifti", _prediction(b"not a NIfTI file")),
    ("prediction-4d", _prediction(nifti_bytes(np.ones((20, 24, 5, 2), np.uint8)))),
    ("prediction-nan", _prediction(nifti_bytes(np.full((20, 24, 5), np.nan, np.float32)))),
    ("prediction-fractional-label", _prediction(nifti_bytes(np.full((20, 24, 5), 1.5)))),
    (
        "ground-truth-missing",
        lambda root, _: (root / "training/patient002/patient002_frame03_gt.nii.gz").unlink(),
    ),
]:
    case(f"score-acdc-{_name}")(lambda c, change=_change: _score_acdc(c, change))


@case("score-acdc-out-is-a-file")
def _(c):
    argv = _score_acdc(c)
    argv[argv.index("--out") + 1] = c.file_in_work()
    return argv


# --- train -----------------------------------------------------------------------------


def _train(c, config=None, *settings):
    config = config if config is not None else c.config("")
    return ["train", "--config", config, "--quiet", *[f"--set={s}" for s in settings]]


for _name, _setting in [
    ("no-equals", "training.epochs"),
    ("unknown-key", "training.epoch=3"),
    ("unknown-section", "optimizer.lr=3"),
    ("bad-type", "training.epochs=three"),
    ("section-as-value", "training=3"),
    ("epochs-0", "training.epochs=0"),
    ("epochs-negative", "training.epochs=-1"),
    ("epochs-nan", "training.epochs=.nan"),
    ("epochs-inf", "training.epochs=.inf"),
    ("epochs-huge", "training.epochs=10**9"),
    ("batch-size-0", "training.batch_size=0"),
    ("learning-rate-negative", "training.learning_rate=-0.001"),
    ("learning-rate-nan", "training.learning_rate=nan"),
    ("learning-rate-inf", "training.learning_rate=inf"),
    ("patience-0", "training.patience=0"),
    ("dropout-1", "model.dropout=1.0"),
    ("depth-0", "model.depth=0"),
    ("invalid-yaml-value", "training.epochs=[1"),
]:
    case(f"train-set-{_name}")(lambda c, s=_setting: _train(c, None, s))


for _name, _text in [
    ("not-a-mapping", "- 1\n- 2\n"),
    ("scalar", "just text\n"),
    ("binary", b"\x00\xff\xfe\x81" * 50),
    ("too-big", "# " + "x" * (2 << 20) + "\n"),
    (
        "alias-bomb",
        "model:\n  conditioning_options:\n    a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"    {chr(98 + k)}: &{chr(98 + k)} [{', '.join([f'*{chr(97 + k)}'] * 9)}]\n"
            for k in range(9)
        ),
    ),
    ("unknown-section", "data: {}\nmodel: {}\noptimiser: {lr: 1}\n"),
    ("unknown-key", "training: {epoch: 3}\n"),
    ("invalid-yaml", "training: {epochs: [1\n"),
    ("epochs-0", "training: {epochs: 0}\n"),
]:
    case(f"train-config-{_name}")(lambda c, t=_text: _train(c, c.text("config.yaml", t)))


@case("train-config-missing")
def _(c):
    return _train(c, c.inputs / "nowhere.yaml")


@case("train-config-is-a-folder")
def _(c):
    return _train(c, c.inputs)


def _train_on(c, data):
    config = c.config("")
    return _train(c, config, f"data.path={data}")


@case("train-data-not-prepared")
def _(c):
    return _train_on(c, c.text("data.npz", "not an archive"))


@case("train-data-missing-keys")
def _(c):
    path = c.inputs / "data.npz"
    np.savez(path, x=np.zeros((4, 8, 8, 3), np.float32))
    return _train_on(c, path)


@case("train-data-wrong-shapes")
def _(c):
    path = c.inputs / "data.npz"
    n = 4
    np.savez(
        path,
        x=np.zeros((n, 8, 8, 3), np.float32),
        y=np.zeros((n, 9, 9, 1), np.float32),
        z=np.zeros((n, 4), np.float32),
        split=np.array(["train", "train", "val", "test"]),
        name=np.array(list("abcd")),
    )
    return _train_on(c, path)


@case("train-data-non-finite")
def _(c):
    path = tiny_dataset(c.inputs / "data.npz")
    with np.load(path) as archive:
        arrays = dict(archive)
    arrays["x"][0, 0, 0, 0] = np.inf
    np.savez(path, **arrays)
    return _train_on(c, path)


@case("train-network-too-deep")
def _(c):
    # a depth-5 U-Net pools 16x16 images below one pixel: refused once the data is read,
    # after the run had begun writing its folder, which is then removed again
    return _train(c, None, "model.architecture=unet", "model.depth=5")


@case("train-encoder-decoder-on-images-of-3-px")
def _(c):
    data = tiny_dataset(c.inputs / "data.npz", size=3)
    return _train_on(c, data)


@case("train-data-truncated")
def _(c):
    path = c.copy("data")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return _train_on(c, path)


@case("train-out-is-a-file")
def _(c):
    return _train(c) + ["--out", c.file_in_work()]


@case("train-out-under-a-file")
def _(c):
    return _train(c) + ["--out", c.file_in_work() / "run"]


@case("train-out-read-only")
def _(c):
    return _train(c) + ["--out", c.read_only() / "run"]


def _damaged_run(c, damage):
    """`train --resume` on a copy of the shared run (its saved config moved with it)."""
    run = c.work / "run"
    shutil.copytree(c.shared["run"], run)
    saved = yaml.safe_load((run / "config.yaml").read_text())
    saved["output"]["dir"] = str(run)
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    config = c.text("config.yaml", (run / "config.yaml").read_text())
    damage(run)
    return ["train", "--config", config, "--resume", "--quiet"]


@case("train-resume-state-garbage")
def _(c):
    return _damaged_run(c, lambda r: (r / "checkpoint/state.json").write_text("{garbage"))


@case("train-resume-checkpoint-missing")
def _(c):
    def remove(run):
        for path in (run / "checkpoint").glob("*.keras"):
            path.unlink()

    return _damaged_run(c, remove)


@case("train-resume-nothing-to-resume")
def _(c):
    return ["train", "--config", c.config(""), "--resume", "--quiet"]


# --- evaluate and predict --------------------------------------------------------------


def _evaluate(c, model=None, data=None):
    model = model if model is not None else c.shared["model"]
    data = data if data is not None else c.shared["data"]
    return ["evaluate", "--model", model, "--data", data, "--csv", c.work / "scores.csv"]


def _predict(c, model=None, data=None):
    model = model if model is not None else c.shared["model"]
    data = data if data is not None else c.shared["data"]
    return ["predict", "--model", model, "--data", data, "--out", c.work / "predicted"]


def _truncated_model(c):
    path = c.inputs / "model.keras"
    data = c.shared["model"].read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _zip_model(c):
    path = c.inputs / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{not json")
    return path


_MODELS = {
    "text-file": lambda c: c.text("model.keras", "not a model\n"),
    "truncated": _truncated_model,
    "zip-not-a-model": _zip_model,
    "folder": lambda c: c.inputs,
}
for _name, _model in _MODELS.items():
    case(f"evaluate-model-{_name}")(lambda c, m=_model: _evaluate(c, model=m(c)))
    case(f"predict-model-{_name}")(lambda c, m=_model: _predict(c, model=m(c)))


_DATA = {
    "text-file": lambda c: c.text("data.npz", "not an archive\n"),
    "missing": lambda c: c.inputs / "none.npz",
}
for _name, _data in _DATA.items():
    case(f"evaluate-data-{_name}")(lambda c, d=_data: _evaluate(c, data=d(c)))
    case(f"predict-data-{_name}")(lambda c, d=_data: _predict(c, data=d(c)))


@case("evaluate-csv-is-a-folder")
def _(c):
    argv = _evaluate(c)
    (c.work / "scores.csv").mkdir()
    return argv


@case("evaluate-csv-under-a-file")
def _(c):
    argv = _evaluate(c)
    argv[-1] = c.file_in_work() / "scores.csv"
    return argv


@case("predict-limit-0")
def _(c):
    return _predict(c) + ["--limit", "0"]


@case("predict-limit-negative")
def _(c):
    return _predict(c) + ["--limit", "-2"]


@case("predict-out-is-a-file")
def _(c):
    argv = _predict(c)
    argv[-1] = c.file_in_work()
    return argv


@case("predict-out-under-a-file")
def _(c):
    argv = _predict(c)
    argv[-1] = c.file_in_work() / "predicted"
    return argv


# --- reproduce -------------------------------------------------------------------------


def _reproduce(c, *extra):
    return ["reproduce", "clevr-seg", "--quick", "--out", c.work / "repro", *extra]


flag_cases(
    "reproduce",
    _reproduce,
    [
        ("jobs-0", ["--jobs", "0"]),
        ("jobs-negative", ["--jobs", "-1"]),
        ("set-no-equals", ["--set", "training.epochs"]),
        ("set-epochs-0", ["--set", "training.epochs=0"]),
        ("set-unknown-key", ["--set", "training.momentum=0.9"]),
        ("set-images-0", ["--set", "data.generate.images=0"]),
        ("set-spacing-inf", ["--set", "data.generate.spacing=.inf"]),
    ],
)


@case("reproduce-config-not-a-mapping")
def _(c):
    return _reproduce(c, "--config", c.text("spec.yaml", "[1, 2]\n"))


@case("reproduce-config-binary")
def _(c):
    return _reproduce(c, "--config", c.text("spec.yaml", b"\x00\x81\xff" * 30))


@case("reproduce-out-is-a-file")
def _(c):
    argv = _reproduce(c)
    argv[argv.index("--out") + 1] = c.file_in_work()
    return argv


@case("reproduce-data-root-is-a-file")
def _(c):
    return _reproduce(c, "--data", c.file_in_work("data-root"))


# --- sweep -----------------------------------------------------------------------------


def _sweep(c, spec=None, *extra):
    spec = spec if spec is not None else c.spec()
    return ["sweep", spec, "--out", c.work / "sweep", *extra]


flag_cases(
    "sweep",
    _sweep,
    [
        ("num-samples-0", ["--num-samples", "0"]),
        ("cpus-per-trial-0", ["--cpus-per-trial", "0"]),
        ("gpus-per-trial-negative", ["--gpus-per-trial", "-1"]),
        ("gpus-per-trial-nan", ["--gpus-per-trial", "nan"]),
        ("gpus-per-trial-inf", ["--gpus-per-trial", "inf"]),
        ("set-learning-rate-nan", ["--set", "training.learning_rate=.nan"]),
    ],
)

for _name, _sections in [
    ("unknown-search-key", {"search": "{num_samples: 1, samplez: 3}"}),
    ("empty-space", {"space": "{}"}),
    ("unknown-distribution", {"space": "{training.learning_rate: {normal: [0, 1]}}"}),
    ("uniform-low-above-high", {"space": "{training.learning_rate: {uniform: [0.1, 0.01]}}"}),
    ("uniform-nan", {"space": "{training.learning_rate: {uniform: [.nan, 0.01]}}"}),
    ("choice-out-of-range", {"space": "{training.epochs: {choice: [1, 0]}}"}),
    ("unknown-parameter", {"space": "{training.momentum: {choice: [0.9]}}"}),
    ("unknown-top-key", {"trials": "3"}),
    ("max-concurrent-negative", {"search": "{num_samples: 1, max_concurrent: -1}"}),
]:
    case(f"sweep-spec-{_name}")(lambda c, s=_sections: _sweep(c, c.spec(**s)))

for _name, _text in [
    ("not-a-mapping", "- experiment\n"),
    ("binary", b"\xff\x00" * 40),
    ("malformed", "space: {a: [\n"),
    ("missing", None),
]:
    case(f"sweep-spec-file-{_name}")(
        lambda c, t=_text: _sweep(c, c.inputs / "none.yaml" if t is None else c.spec(t))
    )


@case("sweep-out-is-a-file")
def _(c):
    argv = _sweep(c)
    argv[argv.index("--out") + 1] = c.file_in_work()
    return argv


# --- the cases -------------------------------------------------------------------------


@pytest.mark.parametrize("build", CASES)
def test_bad_input_is_one_line_and_writes_nothing(build, tmp_path, shared):
    c = Case(tmp_path, shared)
    argv = build(c)
    before = snapshot(c.work)
    result = run_cli(argv, cwd=tmp_path)
    print(result.stderr)
    check_one_line(result.stderr, 2, result.returncode)
    assert snapshot(c.work) == before


def test_a_failed_train_leaves_no_trace_and_the_corrected_command_runs(tmp_path, shared):
    c = Case(tmp_path, shared)
    deep = run_cli(_train(c, None, "model.architecture=unet", "model.depth=5"), cwd=tmp_path)
    check_one_line(deep.stderr, 2, deep.returncode)
    assert "model.depth: depth 5 needs at least 32 px along each axis; the samples are 16x16" in (
        deep.stderr
    )
    assert "use depth <= 4" in deep.stderr and not (c.work / "run").exists()
    fixed = run_cli(_train(c, None, "model.architecture=unet", "model.depth=2"), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr
    assert (c.work / "run" / "model.keras").is_file()


def test_there_are_enough_cases():
    assert len(CASES) >= 70


def test_zip_member_limit_is_raised_through_the_environment(tmp_path, shared):
    c = Case(tmp_path, shared)
    argv = _prepare_clevr(c, zip_of(c.clevr(), c.inputs / "data.zip"))
    before = snapshot(c.work)
    result = run_cli(argv, cwd=tmp_path, env={"INSIDE_KERAS_MAX_ZIP_MEMBERS": "3"})
    check_one_line(result.stderr, 2, result.returncode)
    assert "INSIDE_KERAS_MAX_ZIP_MEMBERS" in result.stderr
    assert snapshot(c.work) == before


def test_a_bad_limit_setting_is_one_line(tmp_path, shared):
    c = Case(tmp_path, shared)
    result = run_cli(_prepare_clevr(c), cwd=tmp_path, env={"INSIDE_KERAS_MAX_IMAGE_PIXELS": "x"})
    check_one_line(result.stderr, 2, result.returncode)
    assert "INSIDE_KERAS_MAX_IMAGE_PIXELS" in result.stderr


# --- Ctrl-C ----------------------------------------------------------------------------


def _interrupt(argv, cwd, started):
    """Start `argv`, wait until `started()` holds, send SIGINT; returns (code, stderr)."""
    process = subprocess.Popen(
        CLI + [str(arg) for arg in argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # As typed at a terminal: Ctrl-C interrupts. (A process started with SIGINT
        # ignored, as pytest-xdist's workers and background jobs are, keeps ignoring
        # it, which Python respects.)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + TIMEOUT
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process.poll() is None, "finished before it could be interrupted"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    return process.returncode, stderr


def _no_partial_files(folder):
    return [str(path) for path in folder.rglob("*") if "partial" in path.name]


INTERRUPTED = {
    "generate-clevr": (
        lambda out: ["generate", "clevr-seg", "--out", out, "--n", 100_000, "--size", 64],
        lambda out: any((out / ".inside-keras-partial" / "images").glob("*.png")),
    ),
    "generate-acdc": (
        lambda out: ["generate", "acdc", "--out", out, "--patients", 10_000],
        lambda out: (out / ".inside-keras-partial" / "training" / "patient002").is_dir(),
    ),
}


@pytest.mark.parametrize("command", sorted(INTERRUPTED))
def test_ctrl_c_while_generating_is_one_line_and_130(command, tmp_path):
    build, started = INTERRUPTED[command]
    out = tmp_path / "out"
    code, stderr = _interrupt(build(out), tmp_path, lambda: started(out))
    check_one_line(stderr, 130, code)
    assert not _no_partial_files(tmp_path)


def test_ctrl_c_while_training_is_one_line_and_130(tmp_path, shared):
    c = Case(tmp_path, shared)
    argv = _train(c, None, "training.epochs=1000")
    code, stderr = _interrupt(argv, tmp_path, lambda: (c.work / "run" / "config.yaml").is_file())
    check_one_line(stderr, 130, code)
    assert not _no_partial_files(c.work)


#: Seconds after the start at which the random-moment cases send Ctrl-C (seeded).
MOMENTS = sorted(float(t) for t in np.random.default_rng(26).uniform(0.3, 20.0, 6))


def _interrupt_after(argv, cwd, seconds):
    """Start `argv`, send SIGINT after `seconds` (unless it ended); (code, stderr)."""
    process = subprocess.Popen(
        CLI + [str(arg) for arg in argv],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=TIMEOUT)
    return process.returncode, stderr


@pytest.mark.parametrize("seconds", MOMENTS)
def test_ctrl_c_at_any_moment_of_training_is_one_line_and_130(seconds, tmp_path, shared):
    # Whenever it lands (imports, data, building, compiling, an epoch, a checkpoint),
    # Ctrl-C ends the run with one line and 130, and leaves what the resume rules say:
    # nothing before the first finished epoch, else a checkpoint `--resume` continues.
    c = Case(tmp_path, shared)
    code, stderr = _interrupt_after(_train(c, None, "training.epochs=1000"), tmp_path, seconds)
    check_one_line(stderr, 130, code)
    assert stderr.strip() == "inside-keras train: interrupted"
    run = c.work / "run"
    if run.exists():
        state = json.loads((run / "checkpoint" / "state.json").read_text())
        assert state["epoch"] >= 1 and (run / "checkpoint" / state["latest"]).is_file()
    assert not _no_partial_files(c.work)


@pytest.mark.parametrize(
    "seconds", sorted(float(t) for t in np.random.default_rng(27).uniform(0.2, 1.5, 3))
)
def test_ctrl_c_at_any_moment_of_predict_is_one_line_and_130(seconds, tmp_path, shared):
    # within its first 1.5 s predict is still importing Keras or loading the model
    c = Case(tmp_path, shared)
    argv = ["predict", "--model", shared["model"], "--data", shared["data"]]
    code, stderr = _interrupt_after([*argv, "--out", c.work / "p"], tmp_path, seconds)
    check_one_line(stderr, 130, code)
    assert not _no_partial_files(c.work)


def test_an_internal_error_is_one_line_and_its_traceback_is_for_debug(monkeypatch, capsys):
    import argparse

    import inside_keras.cli.entry_point as cli

    def failing(args):
        raise RuntimeError("an assumption of the package broke\nacross lines")

    def parser():
        built = argparse.ArgumentParser(prog="inside-keras")
        built.add_argument("command")
        built.set_defaults(func=failing)
        return built

    monkeypatch.setattr(cli, "build_parser", parser)
    assert main(["info"]) == 1
    err = capsys.readouterr().err
    check_one_line(err, 1, 1)
    assert err.startswith("inside-keras info: internal error: RuntimeError: an assumption")
    assert "run again with --debug for the traceback" in err
    with pytest.raises(RuntimeError, match="an assumption"):
        main(["info", "--debug"])
