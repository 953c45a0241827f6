"""Reading a `train` run's TensorBoard logs back with TensorBoard's own reader (the
`tensorboard` package, which needs no TensorFlow), for the tests of watched runs."""

import csv

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

#: The metrics every run logs per epoch, as log.csv names them (`val_` for validation).
EPOCH_METRICS = ("loss", "dice", "dice_soft")


def read_events(folder):
    """TensorBoard's reader over one TensorBoard run folder, every image and scalar kept."""
    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag):
    """`[(step, value), ...]` of a scalar tag."""
    return [(event.step, event.value) for event in accumulator.Scalars(tag)]


def log_rows(out):
    """The rows of the run's log.csv in `out`, one per finished epoch."""
    with open(out / "log.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def check_epoch_scalars(out, epochs, learning_rate=1e-3):
    """Assert that the run in `out` logged, for each of its `epochs` epochs, the values
    of its log.csv (training in `tensorboard/train`, validation in
    `tensorboard/validation`, at the number of finished epochs) and its learning rate,
    and no other scalar; return the two runs' readers `(train, validation)`."""
    rows = log_rows(out)
    assert len(rows) == epochs
    train = read_events(out / "tensorboard/train")
    validation = read_events(out / "tensorboard/validation")
    assert sorted(train.Tags()["scalars"]) == sorted(
        [*(f"epoch_{name}" for name in EPOCH_METRICS), "epoch_learning_rate"]
    )
    assert sorted(validation.Tags()["scalars"]) == sorted(f"epoch_{name}" for name in EPOCH_METRICS)
    for name in EPOCH_METRICS:
        assert scalars(train, f"epoch_{name}") == [
            (int(row["epoch"]) + 1, pytest.approx(float(row[name]))) for row in rows
        ]
        assert scalars(validation, f"epoch_{name}") == [
            (int(row["epoch"]) + 1, pytest.approx(float(row[f"val_{name}"]))) for row in rows
        ]
    assert scalars(train, "epoch_learning_rate") == [
        (step, pytest.approx(learning_rate)) for step in range(1, epochs + 1)
    ]
    return train, validation
