"""INSIDE and FiLM as PyTorch modules: a conditioned U-Net trained by a plain PyTorch loop.

Run with the PyTorch backend (MONAI is needed for the loss, the data loader and the
transforms; the package itself does not depend on it):

    pip install inside-keras torch monai
    KERAS_BACKEND=torch python docs/pytorch_example.py

What it shows (docs/pytorch.md walks through it):

1. FiLM and INSIDE built with `data_format="channels_first"` inside plain
   `torch.nn.Module`s, on NCHW tensors: their weights are `torch.nn.Parameter`s of
   the module, gradients reach them, the attention comes back as NCHW.
2. A toy task the image alone cannot solve: four bright squares, one per quadrant;
   the condition is a one-hot quadrant, the target the square in that quadrant.
   Data through MONAI's `Dataset`/`DataLoader` with dictionary transforms (random
   flips that mirror the condition with the image, intensity scaling, noise).
3. A small 2-D U-Net in plain PyTorch with INSIDE at its bottleneck, trained with
   `torch.optim.Adam` and MONAI's `DiceFocalLoss(sigmoid=True)`; the same U-Net
   with FiLM there, and without any conditioning layer (the unconditioned twin),
   trained in the same way. Test Dice by MONAI's `DiceMetric`.
4. `state_dict` saved, the module rebuilt, loaded: identical predictions.
5. The trained module under `torch.compile`: the eager output, within rtol = atol = 1e-4.

Deterministic (seeded); prints its numbers, the last line `RESULTS {json}`; exits 1 if
a check fails, 2 when not run on the PyTorch backend.
"""

import json
import os
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
if os.environ["KERAS_BACKEND"] != "torch":  # before importing anything that needs it
    print(f"run with KERAS_BACKEND=torch, not {os.environ['KERAS_BACKEND']!r}", file=sys.stderr)
    sys.exit(2)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from monai.data import DataLoader, Dataset, set_track_meta  # noqa: E402
from monai.losses import DiceFocalLoss  # noqa: E402
from monai.metrics import DiceMetric  # noqa: E402
from monai.transforms import (  # noqa: E402
    Compose,
    EnsureTyped,
    MapTransform,
    RandGaussianNoised,
    RandomizableTransform,
    RandScaleIntensityd,
)
from torch import nn  # noqa: E402

from inside_keras import INSIDE, FiLM  # noqa: E402

SEED = 0
SIZE = 32  # image side, pixels; each quadrant is SIZE / 2
N_TRAIN, N_TEST = 512, 192
EPOCHS, BATCH = 10, 32
CHANNELS = (8, 16, 32)  # U-Net widths at 32x32, 16x16 and the 8x8 bottleneck
#: Quadrants in the order of the one-hot condition (CLEVR-Seg's order).
QUADRANTS = ("top_left", "top_right", "bottom_right", "bottom_left")
#: The conditioned U-Net must beat its unconditioned twin by this much test Dice.
MIN_DICE_GAIN = 0.1


# -- 1. Keras conditioning layers inside plain torch.nn.Modules --------------------------


def conditioning_layer(kind, channels, condition_dim, name):
    """A built FiLM or INSIDE layer on NCHW features with `channels` channels.

    Build it here, with the shapes it will see (spatial sizes may be None), so its
    weights exist, as torch Parameters of the enclosing module, before an optimiser
    is made. A fixed `name` gives fixed `state_dict` keys (Keras names each weight
    after its layer; an automatic name would change with every new layer).

    INSIDE's `sigma_penalty` is a Keras activity regulariser: each call appends its
    value to `layer.losses`, which a plain PyTorch loop never adds to the loss (nor
    did the paper authors' loop), and under `torch.compile` that per-call list makes
    Dynamo recompile the module on every call. So it is off here; to use it, add
    `sum(layer.losses)` to the loss after each forward (and do not compile).
    """
    options = {"sigma_penalty": 0.0} if kind == "inside" else {}
    layer = {"inside": INSIDE, "film": FiLM}[kind](
        data_format="channels_first", name=name, **options
    )
    layer.build([(None, channels, None, None), (None, condition_dim)])
    return layer


class FiLMConvBlock(nn.Module):
    """Conv -> FiLM(z) -> ReLU, on NCHW tensors."""

    def __init__(self, in_channels, out_channels, condition_dim):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.film = conditioning_layer("film", out_channels, condition_dim, name="film")

    def forward(self, x, z):
        return torch.relu(self.film([self.conv(x), z]))


def check_modules():
    """The layers as module parts: parameters, gradients, NCHW shapes. Returns failures."""
    failures = []
    block = FiLMConvBlock(1, 8, condition_dim=4)
    names = [name for name, _ in block.named_parameters()]
    film_params = [p for name, p in block.named_parameters() if name.startswith("film.")]
    x, z = torch.randn(2, 1, SIZE, SIZE), torch.randn(2, 4)
    y = block(x, z)
    y.square().mean().backward()
    got_grad = all(p.grad is not None and p.grad.abs().sum() > 0 for p in film_params)
    print(f"FiLMConvBlock: {len(names)} parameters ({len(film_params)} of FiLM), ", end="")
    print(f"output {tuple(y.shape)}, every FiLM weight has a gradient: {got_grad}")
    if tuple(y.shape) != (2, 8, SIZE, SIZE) or len(film_params) != 6 or not got_grad:
        failures.append("FiLM inside a torch module")

    inside = conditioning_layer("inside", 8, 4, name="inside")
    features, attention = inside([torch.randn(2, 8, 16, 16), z], return_attention=True)
    print(f"INSIDE: features {tuple(features.shape)}, attention {tuple(attention.shape)} (NCHW)")
    if tuple(attention.shape) != (2, 8, 16, 16) or tuple(features.shape) != (2, 8, 16, 16):
        failures.append("INSIDE shapes on NCHW")
    return failures


# -- 2. The conditioned toy task, through MONAI ------------------------------------------


def make_samples(count, rng):
    """`count` dicts {image (1, H, W), label (1, H, W), condition (4,)} as float32 arrays.

    Each image holds four bright squares of random side and brightness, one inside
    each quadrant, on noise; the condition picks a quadrant, the label is its square.
    """
    half = SIZE // 2
    corners = {
        "top_left": (0, 0),
        "top_right": (0, half),
        "bottom_right": (half, half),
        "bottom_left": (half, 0),
    }
    samples = []
    for _ in range(count):
        image = rng.normal(0.0, 0.05, (1, SIZE, SIZE)).astype("float32")
        squares = []
        for quadrant in QUADRANTS:
            side = int(rng.integers(4, 10))
            row = corners[quadrant][0] + int(rng.integers(1, half - side))
            col = corners[quadrant][1] + int(rng.integers(1, half - side))
            image[0, row : row + side, col : col + side] += rng.uniform(0.5, 1.0)
            squares.append((row, col, side))
        chosen = int(rng.integers(len(QUADRANTS)))
        label = np.zeros((1, SIZE, SIZE), "float32")
        row, col, side = squares[chosen]
        label[0, row : row + side, col : col + side] = 1.0
        condition = np.eye(len(QUADRANTS), dtype="float32")[chosen]
        samples.append({"image": image, "label": label, "condition": condition})
    return samples


class RandFlipQuadrantd(RandomizableTransform, MapTransform):
    """Flip image and label along one spatial axis and mirror the quadrant condition.

    MONAI's `RandFlipd` would move the target square to another quadrant and leave the
    one-hot condition wrong; here the condition is permuted with the flip
    (left-right swaps top_left/top_right and bottom_left/bottom_right, up-down swaps
    top_left/bottom_left and top_right/bottom_right), so it stays true.
    """

    #: Condition permutation for a flip of spatial axis 0 (rows) and 1 (columns).
    PERMUTATIONS = {0: [3, 2, 1, 0], 1: [1, 0, 3, 2]}

    def __init__(self, keys, condition_key, spatial_axis, prob=0.5):
        RandomizableTransform.__init__(self, prob)
        MapTransform.__init__(self, keys)
        self.condition_key = condition_key
        self.spatial_axis = spatial_axis
        self.permutation = self.PERMUTATIONS[spatial_axis]

    def __call__(self, data):
        d = dict(data)
        self.randomize(None)
        if self._do_transform:
            for key in self.key_iterator(d):  # channel-first arrays: (C, H, W)
                d[key] = np.ascontiguousarray(np.flip(d[key], axis=1 + self.spatial_axis))
            d[self.condition_key] = d[self.condition_key][self.permutation]
        return d


def train_transforms():
    return Compose(
        [
            RandFlipQuadrantd(["image", "label"], "condition", spatial_axis=1),
            RandFlipQuadrantd(["image", "label"], "condition", spatial_axis=0),
            RandScaleIntensityd("image", factors=0.2, prob=0.5),
            RandGaussianNoised("image", prob=0.5, std=0.05),
            EnsureTyped(["image", "label", "condition"], dtype=torch.float32),
        ]
    )


def eval_transforms():
    return EnsureTyped(["image", "label", "condition"], dtype=torch.float32)


def condition_is_true(batch):
    """Whether each label's square lies in the quadrant its condition names."""
    label, condition = batch["label"], batch["condition"]
    rows = torch.arange(SIZE, dtype=torch.float32)
    mass = label.sum(dim=(1, 2, 3))
    centre_row = (label.sum(dim=(1, 3)) * rows).sum(dim=1) / mass
    centre_col = (label.sum(dim=(1, 2)) * rows).sum(dim=1) / mass
    top, left = centre_row < SIZE / 2, centre_col < SIZE / 2
    quadrant = torch.where(top, torch.where(left, 0, 1), torch.where(left, 3, 2))
    return bool(torch.all(quadrant == condition.argmax(dim=1)))


def loader(samples, transform, shuffle):
    generator = torch.Generator().manual_seed(SEED)
    return DataLoader(
        Dataset(samples, transform=transform),
        batch_size=BATCH,
        shuffle=shuffle,
        num_workers=0,
        generator=generator,
    )


# -- 3. A small U-Net in plain PyTorch, INSIDE at its bottleneck -------------------------


def conv_block(in_channels, out_channels):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(),
    )


class UNet(nn.Module):
    """Two-level 2-D U-Net on NCHW images; `conditioning` "inside", "film" or None.

    With None it is the unconditioned twin: the same layers, the condition ignored.
    Returns logits `(batch, 1, H, W)`.
    """

    def __init__(self, conditioning="inside", condition_dim=4, channels=CHANNELS):
        super().__init__()
        c1, c2, c3 = channels
        self.enc1 = conv_block(1, c1)
        self.enc2 = conv_block(c1, c2)
        self.bottleneck = conv_block(c2, c3)
        self.pool = nn.MaxPool2d(2)
        self.conditioning = None
        if conditioning is not None:
            self.conditioning = conditioning_layer(
                conditioning, c3, condition_dim, name=f"bottleneck_{conditioning}"
            )
        self.up2, self.dec2 = nn.ConvTranspose2d(c3, c2, 2, stride=2), conv_block(2 * c2, c2)
        self.up1, self.dec1 = nn.ConvTranspose2d(c2, c1, 2, stride=2), conv_block(2 * c1, c1)
        self.head = nn.Conv2d(c1, 1, 1)

    def forward(self, image, condition):
        e1 = self.enc1(image)
        e2 = self.enc2(self.pool(e1))
        b = self.bottleneck(self.pool(e2))
        if self.conditioning is not None:
            b = self.conditioning([b, condition])
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


def build_unet(conditioning):
    """A U-Net with seeded initial weights (torch's and Keras's generators)."""
    keras.utils.set_random_seed(SEED)  # seeds Python, NumPy, torch and Keras initialisers
    return UNet(conditioning)


def train(model, train_samples):
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = DiceFocalLoss(sigmoid=True)
    data = loader(train_samples, train_transforms(), shuffle=True)
    model.train()
    for epoch in range(EPOCHS):
        total, count = 0.0, 0
        for batch in data:
            optimiser.zero_grad()
            loss = loss_fn(model(batch["image"], batch["condition"]), batch["label"])
            loss.backward()
            optimiser.step()
            total, count = total + loss.item() * len(batch["image"]), count + len(batch["image"])
        if epoch in (0, EPOCHS - 1):
            print(f"  epoch {epoch + 1:2d}/{EPOCHS}: train loss {total / count:.4f}")


@torch.no_grad()
def predict(model, samples):
    """Logits for every sample, in order."""
    model.eval()
    data = loader(samples, eval_transforms(), shuffle=False)
    return torch.cat([model(b["image"], b["condition"]) for b in data])


def dice_score(logits, samples):
    """Mean Dice of the 0.5-thresholded probabilities over the test images (MONAI)."""
    labels = torch.stack([torch.as_tensor(s["label"]) for s in samples])
    metric = DiceMetric(include_background=True, reduction="mean")
    metric((torch.sigmoid(logits) > 0.5).float(), labels)
    return float(metric.aggregate())


# -- 4 and 5. state_dict round trip, torch.compile ---------------------------------------


def check_state_dict(model, samples):
    """Save the state dict, build a new U-Net (other initial weights), load, compare."""
    expected = predict(model, samples)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "unet_inside.pt")
        torch.save(model.state_dict(), path)
        rebuilt = UNet("inside")
        differed = not torch.equal(predict(rebuilt, samples), expected)
        rebuilt.load_state_dict(torch.load(path, weights_only=True))
    identical = torch.equal(predict(rebuilt, samples), expected)
    print(
        f"state_dict saved, module rebuilt (predictions differ before loading: {differed}) "
        f"and loaded: identical predictions: {identical}"
    )
    return identical and differed


def check_compile(model, samples):
    """One batch through `torch.compile(model)` against eager: (close, max abs difference)."""
    batch = next(iter(loader(samples, eval_transforms(), shuffle=False)))
    compiled = torch.compile(model)
    start = time.perf_counter()
    with torch.no_grad():
        compiled_out = compiled(batch["image"], batch["condition"])
        eager_out = model(batch["image"], batch["condition"])
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        again = compiled(batch["image"], batch["condition"])  # no recompilation
    again_ms = (time.perf_counter() - start) * 1000
    difference = float((compiled_out - eager_out).abs().max())
    close = torch.allclose(compiled_out, eager_out, rtol=1e-4, atol=1e-4)
    close = close and torch.equal(again, compiled_out)
    print(
        f"torch.compile: first batch in {seconds:.1f} s (compiling), the next in "
        f"{again_ms:.0f} ms; max |compiled - eager| = {difference:.2e} on logits up to "
        f"{float(eager_out.abs().max()):.3g}; allclose (rtol = atol = 1e-4): {close}"
    )
    return close, difference


def main():
    start = time.perf_counter()
    # Small tensors: one thread avoids synchronising (and, on a shared machine,
    # oversubscribing) cores, and keeps the numbers the same whatever the core count.
    torch.set_num_threads(1)
    # No MONAI metadata is needed: plain tensors are several times faster to transform
    # and are what the network (and torch.compile) should see.
    set_track_meta(False)
    failures = check_modules()

    rng = np.random.default_rng(SEED)
    train_samples, test_samples = make_samples(N_TRAIN, rng), make_samples(N_TEST, rng)
    augmented = list(loader(train_samples, train_transforms(), shuffle=False))
    flips_keep_condition = all(condition_is_true(batch) for batch in augmented)
    print(f"augmented training batches: condition still true: {flips_keep_condition}")
    if not flips_keep_condition:
        failures.append("flips keep the condition")

    models, dice = {}, {}
    for name in ("inside", "film", None):
        print(f"training the U-Net, {name or 'unconditioned'} ({EPOCHS} epochs, {N_TRAIN} images)")
        models[name] = build_unet(name)
        train(models[name], train_samples)
        dice[name] = dice_score(predict(models[name], test_samples), test_samples)
    gain = dice["inside"] - dice[None]
    print(
        f"test Dice ({N_TEST} images): INSIDE {dice['inside']:.3f}, FiLM {dice['film']:.3f}, "
        f"unconditioned twin {dice[None]:.3f}; INSIDE - twin = {gain:.3f} "
        f"(at least {MIN_DICE_GAIN} required)"
    )
    if gain < MIN_DICE_GAIN:
        failures.append("INSIDE beats the unconditioned twin")

    identical = check_state_dict(models["inside"], test_samples)
    if not identical:
        failures.append("state_dict round trip")
    compile_close, compile_difference = check_compile(models["inside"], test_samples)
    if not compile_close:
        failures.append("torch.compile output")

    seconds = time.perf_counter() - start
    print(f"total {seconds:.1f} s")
    results = {
        "dice_inside": round(dice["inside"], 4),
        "dice_film": round(dice["film"], 4),
        "dice_unconditioned": round(dice[None], 4),
        "dice_gain": round(gain, 4),
        "flips_keep_condition": flips_keep_condition,
        "state_dict_identical": identical,
        "compile_close": compile_close,
        "compile_max_abs_diff": compile_difference,
        "failures": failures,
        "seconds": round(seconds, 1),
    }
    print("RESULTS " + json.dumps(results))
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
