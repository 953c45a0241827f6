"""The samples figure (`reproduce`'s figure and TensorBoard's `predictions` image)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_agg import FigureCanvasAgg

from inside_keras.evaluation.plots import SAMPLES_DPI, _display, _nearest, samples_figure


def test_nearest_resamples_by_hand():
    plane = np.array([[1.0, 2.0], [3.0, 4.0]])
    # 2×2 onto 3×5: rows 0,0,1 (0*2//3, 1*2//3, 2*2//3); columns 0,0,0,1,1.
    expected = np.array(
        [[1, 1, 1, 2, 2], [1, 1, 1, 2, 2], [3, 3, 3, 4, 4]],
        dtype=float,
    )
    np.testing.assert_array_equal(_nearest(plane, (3, 5)), expected)


@settings(max_examples=30, deadline=None)
@given(
    map_size=st.tuples(st.integers(1, 12), st.integers(1, 12)),
    image_size=st.tuples(st.integers(1, 40), st.integers(1, 40)),
)
def test_nearest_any_ratio_keeps_the_values_in_order(map_size, image_size):
    plane = np.arange(map_size[0] * map_size[1], dtype=float).reshape(map_size)
    drawn = _nearest(plane, image_size)
    assert drawn.shape == image_size
    assert drawn[0, 0] == plane[0, 0]
    assert np.all(np.diff(drawn, axis=0) >= 0) and np.all(np.diff(drawn, axis=1) >= 0)
    assert set(np.unique(drawn)) <= set(plane.ravel())


def test_samples_figure_with_a_map_no_size_divides():
    """75×50 images (as real data comes) under attention maps of a padded network's
    level, 10×7: the figure draws, four columns a row."""
    rng = np.random.default_rng(0)
    images = rng.random((2, 75, 50, 1))
    truths = (images[..., 0] > 0.5).astype(int)
    figure = samples_figure(images, truths, truths, rng.random((2, 10, 7, 3)))
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    assert figure.dpi == SAMPLES_DPI
    assert len(figure.axes) == 2 * 4
    assert np.asarray(canvas.buffer_rgba()).shape[:2] == (
        2 * 2.4 * SAMPLES_DPI,
        4 * 2.4 * SAMPLES_DPI,
    )


def test_samples_figure_of_two_modalities_draws_the_first():
    rng = np.random.default_rng(0)
    images = rng.random((2, 8, 8, 2))
    truths = (images[..., 0] > 0.5).astype(int)
    figure = samples_figure(images, truths, truths, None)
    first = figure.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(first, _display(images[0, ..., :1]))
    assert len(figure.axes) == 2 * 3
