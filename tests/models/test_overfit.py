"""A depth-3 INSIDE U-Net learns a conditioned task: 8 fixed images to a Dice of 0.9.

The task cannot be solved without the condition (each image appears once per quadrant,
see `test_task_needs_the_condition`): measured on JAX with these seeds, the INSIDE U-Net's
training Dice is 0.84 / 0.94 / 1.00 after 25 / 50 / 100 epochs (one step each), while
the same U-Net without conditioning stays at 0.37-0.39.
"""

import keras

from inside_keras.evaluation.keras_metrics import DiceScore
from inside_keras.losses import get_loss
from inside_keras.models import unet
from tests.models.quadrant_task import quadrant_task

EPOCHS = 100

#: The Dice the trained model must reach on its training images (JAX reaches 1.00).
MIN_DICE = 0.9


def test_inside_unet_overfits_quadrant_task():
    keras.utils.set_random_seed(0)
    inputs, masks = quadrant_task(num_images=2, size=64, seed=0)
    # Instance norm: batch norm's moving statistics lag far behind in 100 steps.
    model = unet((64, 64, 1), 1, 4, depth=3, base_filters=8, norm="instance")
    model.compile(keras.optimizers.Adam(1e-2), get_loss("bce_dice"), metrics=[DiceScore()])
    history = model.fit(inputs, masks, batch_size=8, epochs=EPOCHS, verbose=0)
    assert history.history["dice"][-1] >= MIN_DICE
    dice = DiceScore()
    dice.update_state(masks, model.predict(inputs, verbose=0))
    assert float(keras.ops.convert_to_numpy(dice.result())) >= MIN_DICE


def test_task_needs_the_condition():
    """Each image appears with all four quadrants, so the image alone cannot tell the mask."""
    inputs, masks = quadrant_task(num_images=2, size=64, seed=0)
    assert inputs["image"].shape == (8, 64, 64, 1) and masks.shape == (8, 64, 64, 1)
    for first in (0, 4):
        group = slice(first, first + 4)
        assert (inputs["image"][group] == inputs["image"][first]).all()
        assert (masks[group].sum(axis=0) <= 1).all()
        assert all(masks[i].sum() > 0 for i in range(first, first + 4))
