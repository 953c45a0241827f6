"""A depth-3 INSIDE U-Net learns a conditioned task: 8 fixed images to Dice > 0.95."""

import keras

from inside_keras.evaluation.keras_metrics import DiceScore
from inside_keras.losses import get_loss
from inside_keras.models import unet
from tests.models.quadrant_task import quadrant_task


class _StopAtDice(keras.callbacks.Callback):
    """Stop once the training Dice of an epoch (one step here) exceeds `threshold`."""

    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_epoch_end(self, epoch, logs=None):
        if logs["dice"] > self.threshold:
            self.model.stop_training = True


def test_inside_unet_overfits_quadrant_task():
    keras.utils.set_random_seed(0)
    inputs, masks = quadrant_task(num_images=2, size=64, seed=0)
    # Instance norm: batch norm's moving statistics lag far behind in 300 steps.
    model = unet((64, 64, 1), 1, 4, depth=3, base_filters=8, norm="instance")
    model.compile(keras.optimizers.Adam(1e-2), get_loss("bce_dice"), metrics=[DiceScore()])
    history = model.fit(
        inputs, masks, batch_size=8, epochs=300, verbose=0, callbacks=[_StopAtDice(0.98)]
    )
    assert len(history.history["dice"]) <= 300
    dice = DiceScore()
    dice.update_state(masks, model.predict(inputs, verbose=0))
    assert float(keras.ops.convert_to_numpy(dice.result())) > 0.95


def test_task_needs_the_condition():
    """Each image appears with all four quadrants, so the image alone cannot tell the mask."""
    inputs, masks = quadrant_task(num_images=2, size=64, seed=0)
    assert inputs["image"].shape == (8, 64, 64, 1) and masks.shape == (8, 64, 64, 1)
    for first in (0, 4):
        group = slice(first, first + 4)
        assert (inputs["image"][group] == inputs["image"][first]).all()
        assert (masks[group].sum(axis=0) <= 1).all()
        assert all(masks[i].sum() > 0 for i in range(first, first + 4))
