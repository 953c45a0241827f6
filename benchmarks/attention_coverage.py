"""How much of the bottleneck INSIDE's attention keeps in the paper's encoder-decoder.

    python benchmarks/attention_coverage.py [--sizes 64 200] [--json FILE]

For each input size (square, 3 channels; the bottleneck is a quarter of it per axis)
and for the paper's widths (at most `sigma_scale` = 3.5 pixels) and widths relative to
the map (`sigma_relative: true, sigma_scale: 0.5`), it builds the encoder-decoder with
INSIDE (`keras.utils.set_random_seed(0)`), runs 64 random images with random one-hot
coordinate conditions through it untrained, and reports the attention over the
bottleneck: its mean and the share of its values above 0.5 and above 0.1. Beside them,
`widest_share`: the share of the map above 0.5 for the widest map the parametrisation
allows (`sigma = 1`), `(2 w sqrt(2 ln 2) / n)^2` for width `w` on an `n x n` map.
A condition naming a quadrant asks for a quarter of the map.
"""

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from inside_keras.models import attention_model  # noqa: E402
from inside_keras.models.encoder_decoder import encoder_decoder  # noqa: E402
from inside_keras.runs.atomic import write_json  # noqa: E402

WIDTHS = {
    "paper (at most 3.5 px)": {},
    "relative (at most half the map)": {"sigma_relative": True, "sigma_scale": 0.5},
}
SAMPLES = 64
QUADRANTS = 4


def widest_share(options, length):
    """Share of an `length x length` map above 0.5 for the widest Gaussian allowed."""
    width = options.get("sigma_scale", 3.5) * (length if options.get("sigma_relative") else 1)
    return min(1.0, 2 * width * math.sqrt(2 * math.log(2)) / length) ** 2


def coverage(size, options):
    """The attention of an untrained encoder-decoder with INSIDE at `size`."""
    keras.utils.set_random_seed(0)
    model = encoder_decoder((size, size, 3), QUADRANTS, "inside", options)
    rng = np.random.default_rng(0)
    inputs = {
        "image": rng.random((SAMPLES, size, size, 3), dtype=np.float32),
        "condition": np.eye(QUADRANTS, dtype=np.float32)[rng.integers(0, QUADRANTS, SAMPLES)],
    }
    (attention,) = attention_model(model).predict(inputs, verbose=0).values()
    length = attention.shape[1]
    return {
        "size": size,
        "bottleneck": length,
        "mean": float(attention.mean()),
        "share_above_0.5": float((attention > 0.5).mean()),
        "share_above_0.1": float((attention > 0.1).mean()),
        "widest_share": widest_share(options, length),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 200])
    parser.add_argument("--json", type=Path, help="write the records here")
    args = parser.parse_args(argv)
    records = []
    print("| input | bottleneck | widths | mean | > 0.5 | > 0.1 | widest map > 0.5 |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        for label, options in WIDTHS.items():
            record = {"widths": label, "options": options, **coverage(size, options)}
            records.append(record)
            print(
                f"| {size}×{size} | {record['bottleneck']}×{record['bottleneck']} | {label} "
                f"| {record['mean']:.4f} | {record['share_above_0.5']:.2%} "
                f"| {record['share_above_0.1']:.2%} | {record['widest_share']:.1%} |",
                flush=True,
            )
    if args.json:
        write_json(args.json, {"backend": keras.backend.backend(), "results": records})
    return 0


if __name__ == "__main__":
    sys.exit(main())
